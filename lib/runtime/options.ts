/**
 * Options are described once (name, type, default, description) and reused for the CLI parser,
 * `--help`, the README table, validation of options passed in code, and their TypeScript type:
 * a spec list declared `as const satisfies readonly OptionSpec[]` gives `OptionsOf<typeof specs>`.
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

/** A spec as declared: its literal types (name, type, default, choices) kept, still an OptionSpec to read. */
export type DeclaredSpec<S = OptionSpec> = S & OptionSpec;

/**
 * Declares a spec list keeping each spec's literal types, so that `OptionsOf<typeof specs>` is
 * the type of its resolved options: an option is declared once, its type follows.
 */
export function defineOptions<const L extends readonly OptionSpec[]>(specs: L): { readonly [I in keyof L]: DeclaredSpec<L[I]> } {
  return specs as { readonly [I in keyof L]: DeclaredSpec<L[I]> };
}

/** `max-line-bytes` -> `maxLineBytes`, as a type (what keyOf does at run time). */
export type KeyOf<N extends string> = N extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<KeyOf<Tail>>}` : N;

/** The TypeScript type of a value of this option type. */
type TypeOf<T extends OptionType> = T extends 'boolean' ? boolean : T extends 'string' ? string : number;

/** A spec's value: one of its `choices` when it lists them, its type's otherwise. */
type ValueOf<S extends OptionSpec> = S extends { readonly choices: readonly string[] } ? S['choices'][number] : TypeOf<S['type']>;

/** Flattens an intersection of mapped types so that editors show one object type. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The resolved options of a spec list: each spec under its camelCase key, required when it has a
 * default (resolveOptions fills it in), optional when it has none (unset unless given).
 */
export type OptionsOf<L extends readonly OptionSpec[]> = Simplify<
  { [S in L[number] as S extends { readonly default: OptionValue } ? KeyOf<S['name']> : never]: ValueOf<S> } & {
    [S in L[number] as S extends { readonly default: OptionValue } ? never : KeyOf<S['name']>]?: ValueOf<S>;
  }
>;

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
export function resolveOptions<const L extends readonly OptionSpec[]>(specs: L, given?: Record<string, unknown>): OptionsOf<L>;
/** A spec list whose literal types are not kept (e.g. built at run time): the caller names the type. */
export function resolveOptions<T>(specs: readonly OptionSpec[], given?: Record<string, unknown>): T;
export function resolveOptions(specs: readonly OptionSpec[], given: Record<string, unknown> = {}): Record<string, unknown> {
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
  return out;
}

/**
 * Merges spec lists, keeping the first of a name (stages may share e.g. `model`). Typed as the
 * union of the lists' specs, so `OptionsOf` of the result has every list's options.
 */
export function mergeSpecs<const L extends readonly (readonly OptionSpec[])[]>(...lists: L): DeclaredSpec<L[number][number]>[] {
  const seen = new Map<string, DeclaredSpec<L[number][number]>>();
  for (const list of lists) for (const s of list) if (!seen.has(s.name)) seen.set(s.name, s);
  return [...seen.values()];
}

/** A spec with some fields replaced (`Omit` first, so a replaced default's type is the new one). */
type Overridden<S, C> = S extends { readonly name: infer N extends keyof C } ? Simplify<Omit<S, keyof C[N]> & C[N]> : S;

/**
 * Copies of specs with some fields changed, by name (a pipeline's own defaults or wording for a
 * stage's option); the others are shared as they are (spec objects are shared data).
 */
export function overriding<const L extends readonly OptionSpec[], const C extends { readonly [N in L[number]['name']]?: Partial<OptionSpec> }>(
  specs: L,
  changes: C,
): { readonly [I in keyof L]: DeclaredSpec<Overridden<L[I], C>> } {
  const byName = changes as Readonly<Record<string, Partial<OptionSpec> | undefined>>;
  return specs.map((s) => (byName[s.name] ? { ...s, ...byName[s.name] } : s)) as { readonly [I in keyof L]: DeclaredSpec<Overridden<L[I], C>> };
}

/** The specs of these names only (a pipeline that takes some of a stage's options). */
export function pickSpecs<S extends OptionSpec, N extends S['name']>(specs: readonly S[], ...names: readonly N[]): DeclaredSpec<Extract<S, { readonly name: N }>>[] {
  return specs.filter((s): s is DeclaredSpec<Extract<S, { readonly name: N }>> => (names as readonly string[]).includes(s.name));
}

export function formatDefault(spec: OptionSpec): string {
  if (spec.defaultLabel) return spec.defaultLabel;
  if (spec.default === undefined) return '';
  return typeof spec.default === 'string' ? spec.default : String(spec.default);
}
