/**
 * Help text from the option specs: a usage line, what the program does, an options table (flag,
 * description, choices, default) and the exit codes table. Every program's --help is built here, so
 * they read alike and list every flag they accept.
 */
import { formatDefault, type OptionSpec } from '../runtime/options.js';
import type { ExitCodeRow } from './exit-codes.js';

function flag(s: OptionSpec): string {
  return `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'boolean' ? '' : s.type === 'string' ? ' <value>' : ' <n>'}`;
}

/** One line per spec, flags aligned; the default is shown for valued flags (a boolean's is off). */
export function optionLines(specs: readonly OptionSpec[]): string[] {
  const width = Math.max(...specs.map((s) => flag(s).length)) + 2;
  return specs.map((s) => {
    const d = formatDefault(s);
    const choices = s.choices ? ` (${s.choices.join('|')})` : '';
    return `  ${flag(s).padEnd(width)}${s.description}${choices}${d !== '' && s.type !== 'boolean' ? ` [default: ${d}]` : ''}`;
  });
}

export function exitCodeLines(rows: readonly ExitCodeRow[]): string[] {
  return ['Exit codes:', ...rows.map(([code, meaning]) => `  ${String(code).padEnd(5)}${meaning}`)];
}

export interface HelpParts {
  /** After "Usage: ", e.g. `node pipelines/kg.js [options] [FILE...]`. */
  usage: string;
  /** What the program does, one entry a line. */
  about: readonly string[];
  /** Sections between the text and the options (e.g. a program's commands), each a list of lines. */
  sections?: readonly (readonly string[])[];
  /** The flags; omitted: no options table (e.g. a program whose commands have the flags). */
  specs?: readonly OptionSpec[];
  exitCodes: readonly ExitCodeRow[];
}

export function helpText(p: HelpParts): string {
  const blocks: (readonly string[])[] = [[`Usage: ${p.usage}`], p.about, ...(p.sections ?? [])];
  if (p.specs) blocks.push(['Options:', ...optionLines(p.specs)]);
  blocks.push(exitCodeLines(p.exitCodes));
  return blocks.map((b) => b.join('\n')).join('\n\n');
}
