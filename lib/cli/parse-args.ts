/**
 * Flags from option specs: node:util's parseArgs configured from the specs (strict: an unknown flag
 * is an error), each given value coerced and checked by its spec. Defaults are not filled in here:
 * the caller resolves (resolveOptions) what it parsed, so code and command line share one check.
 */
import { parseArgs } from 'node:util';
import { messageOf, usageError } from '../runtime/errors.js';
import { coerceOption, keyOf, type OptionSpec, type OptionValue } from '../runtime/options.js';

export interface ParsedArgs {
  /** The flags given, by camelCase key (`--max-docs 4` -> `maxDocs: 4`), coerced by their specs. */
  given: Record<string, OptionValue>;
  positionals: string[];
}

export interface ParseArgsOptions {
  /** Whether arguments other than flags are accepted (default true). */
  positionals?: boolean;
  /** Put before a parse error's message, e.g. the subcommand (`add: `). */
  prefix?: string;
  /** Where the user finds the flags, appended to a parse error (default "see --help"). */
  hint?: string;
}

/** Parses `argv` by `specs`; throws a usage error that names the flag. */
export function parseSpecArgs(specs: readonly OptionSpec[], argv: readonly string[], o: ParseArgsOptions = {}): ParsedArgs {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const s of specs) config[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: o.positionals ?? true, strict: true });
  } catch (err) {
    throw usageError(`${o.prefix ?? ''}${messageOf(err)} (${o.hint ?? 'see --help'})`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const given: Record<string, OptionValue> = {};
  for (const s of specs) {
    const v = values[s.name];
    if (v !== undefined) given[keyOf(s.name)] = coerceOption(s, v);
  }
  return { given, positionals: parsed.positionals };
}
