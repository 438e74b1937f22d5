/**
 * Options are described once (name, type, default, description) and reused for the CLI parser,
 * `--help`, the README table and validation of options passed in code.
 */
import { usageError } from './errors.js';

export type OptionType = 'string' | 'integer' | 'number' | 'boolean';
export type OptionValue = string | number | boolean;

export interface OptionSpec {
  /** Flag name without the leading dashes, e.g. `max-line-bytes`. */
  name: string;
  type: OptionType;
  /** Omitted: the option is unset unless given (e.g. `--output`). */
  default?: OptionValue;
  /** Shown in --help when the default depends on the machine (e.g. "CPU count"). */
  defaultLabel?: string;
  description: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  short?: string;
  /**
   * Changes how a run goes (speed, limits, where it connects) but not what it writes: a checkpoint
   * made with another value is still accepted.
   */
  operational?: boolean;
}

/** The resolved options a checkpoint pins: every one that shapes the output. */
export function outputShapingOptions(specs: readonly OptionSpec[], resolved: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const k = keyOf(s.name);
    if (!s.operational && resolved[k] !== undefined) out[k] = resolved[k];
  }
  return out;
}

/** `max-line-bytes` -> `maxLineBytes`. */
export function keyOf(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Coerces a CLI string or checks a value given in code; throws a usage error naming the option. */
export function coerceOption(spec: OptionSpec, raw: unknown): OptionValue {
  const flag = `--${spec.name}`;
  let v: unknown = raw;
  if (spec.type === 'boolean') {
    if (typeof v === 'string') v = v === 'true' || v === '1' || v === '';
    if (typeof v !== 'boolean') throw usageError(`${flag} must be a boolean, got ${JSON.stringify(raw)} (${typeName(raw)})`);
    return v;
  }
  if (spec.type === 'integer' || spec.type === 'number') {
    if (typeof v === 'string' && v.trim() !== '') v = Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v))) {
      throw usageError(`${flag} must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)} (${typeName(raw)})`);
    }
    if (spec.min !== undefined && v < spec.min) throw usageError(`${flag} must be >= ${spec.min}, got ${v}`);
    if (spec.max !== undefined && v > spec.max) throw usageError(`${flag} must be <= ${spec.max}, got ${v}`);
    return v;
  }
  if (typeof v !== 'string') throw usageError(`${flag} must be a string, got ${JSON.stringify(raw)} (${typeName(raw)})`);
  if (spec.choices && !spec.choices.includes(v)) {
    throw usageError(`${flag} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Fills defaults under the given values (keyed by camelCase name) and validates every one.
 * Unknown keys are refused so a typo does not silently fall back to a default.
 */
export function resolveOptions<T>(specs: readonly OptionSpec[], given: Record<string, unknown> = {}): T {
  const byKey = new Map(specs.map((s) => [keyOf(s.name), s]));
  for (const k of Object.keys(given)) {
    if (!byKey.has(k) && given[k] !== undefined) throw usageError(`unknown option ${JSON.stringify(k)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of byKey) {
    const v = given[key];
    if (v === undefined) {
      if (spec.default !== undefined) out[key] = spec.default;
    } else {
      out[key] = coerceOption(spec, v);
    }
  }
  return out as T;
}

/** Merges spec lists, keeping the first of a name (stages may share e.g. `model`). */
export function mergeSpecs(...lists: (readonly OptionSpec[])[]): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const list of lists) for (const s of list) if (!seen.has(s.name)) seen.set(s.name, s);
  return [...seen.values()];
}

export function formatDefault(spec: OptionSpec): string {
  if (spec.defaultLabel) return spec.defaultLabel;
  if (spec.default === undefined) return '';
  return typeof spec.default === 'string' ? spec.default : String(spec.default);
}
