/**
 * Command-line options the way RocketMQ's Java tools read them (Apache commons-cli), for the
 * tools whose users type upstream's flags: short names may have several letters (`-ri 1000`,
 * `-bn broker-a`), which commander and util.parseArgs do not accept.
 *
 * Rules, as commons-cli's DefaultParser:
 * - `--name` / `--name=value`: a long name, exact or an unambiguous prefix of one.
 * - `-xy` / `-xy=value`: the whole token after `-` is tried first as a short name, then (two or
 *   more letters) as a long name (exact or unambiguous prefix); failing both, `-tValue` is option `t` with value `Value`
 *   when `t` takes a value, and `-abc` a group of flags when every letter is a flag.
 * - An option that takes a value consumes the next token unless that token is itself an option;
 *   a negative number (`-1`) is a value. A missing value or an unknown option is an error.
 * - `--` ends the options; anything that is not an option is a positional argument.
 * - Given twice, an option keeps every value; `value()` returns the first, as getOptionValue.
 */
import { RmqError, ErrorCode } from '../common/errors.js';

export interface OptionSpec {
  /** Short name without the dash, possibly several letters (`ri`). */
  short?: string;
  /** Long name without dashes. */
  long?: string;
  /** Takes a value (all of upstream's benchmark options do, booleans included). */
  hasArg: boolean;
  description: string;
}

export class ParsedOptions {
  constructor(
    private readonly values: Map<OptionSpec, string[]>,
    readonly args: string[],
  ) {}

  private find(name: string): string[] | undefined {
    for (const [spec, v] of this.values) if (spec.short === name || spec.long === name) return v;
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** The first value given, trimmed like upstream's tools do; undefined when absent. */
  value(name: string): string | undefined {
    return this.find(name)?.[0]?.trim();
  }

  allValues(name: string): string[] {
    return this.find(name) ?? [];
  }
}

function parseError(message: string): RmqError {
  return new RmqError(ErrorCode.ILLEGAL_ARGUMENT, message);
}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

export class OptionParser {
  constructor(readonly specs: readonly OptionSpec[]) {
    const seen = new Set<string>();
    for (const s of specs) {
      for (const n of [s.short, s.long]) {
        if (n === undefined) continue;
        // A short and a long name may coincide only on the same option.
        if (seen.has(n) && !(s.short === s.long && n === s.short))
          throw new Error(`duplicate option name ${n}`);
        seen.add(n);
      }
    }
  }

  private byShort(name: string): OptionSpec | undefined {
    return this.specs.find((s) => s.short === name);
  }

  /** The option a long name (or an unambiguous prefix of one) means; throws when ambiguous. */
  private byLong(name: string): OptionSpec | undefined {
    const exact = this.specs.find((s) => s.long === name);
    if (exact) return exact;
    const matches = this.specs.filter((s) => s.long?.startsWith(name));
    if (matches.length > 1) {
      throw parseError(
        `ambiguous option: --${name} could be ${matches.map((m) => `--${m.long}`).join(', ')}`,
      );
    }
    return matches[0];
  }

  /** Whether `token` would be read as an option (so it cannot be the previous option's value). */
  private isOption(token: string): boolean {
    if (token === '-' || !token.startsWith('-') || NEGATIVE_NUMBER.test(token)) return false;
    if (token.startsWith('--')) return true;
    const name = token.slice(1).split('=')[0]!;
    if (this.byShort(name)) return true;
    try {
      if (name.length > 1 && this.byLong(name)) return true;
    } catch {
      return true;
    }
    return this.byShort(name[0]!) !== undefined;
  }

  parse(argv: readonly string[]): ParsedOptions {
    const values = new Map<OptionSpec, string[]>();
    const args: string[] = [];
    const add = (spec: OptionSpec, value: string | undefined): void => {
      const list = values.get(spec) ?? [];
      if (value !== undefined) list.push(value);
      values.set(spec, list);
    };
    let i = 0;
    /** The value of `spec`: inline, or the next token when that is not an option. */
    const takeValue = (spec: OptionSpec, shown: string, inline: string | undefined): void => {
      if (!spec.hasArg) {
        if (inline !== undefined) throw parseError(`option ${shown} takes no value`);
        add(spec, undefined);
        return;
      }
      if (inline !== undefined) {
        add(spec, inline);
        return;
      }
      const next = argv[i + 1];
      if (next === undefined || this.isOption(next)) throw parseError(`missing value for option ${shown}`);
      i++;
      add(spec, next);
    };
    for (; i < argv.length; i++) {
      const token = argv[i]!;
      if (token === '--') {
        args.push(...argv.slice(i + 1));
        break;
      }
      if (token === '-' || !token.startsWith('-') || NEGATIVE_NUMBER.test(token)) {
        args.push(token);
        continue;
      }
      if (token.startsWith('--')) {
        const eq = token.indexOf('=');
        const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
        const spec = this.byLong(name);
        if (!spec) throw parseError(`unrecognized option: ${token}`);
        takeValue(spec, `--${spec.long}`, eq < 0 ? undefined : token.slice(eq + 1));
        continue;
      }
      const body = token.slice(1);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const inline = eq < 0 ? undefined : body.slice(eq + 1);
      // One letter is only ever a short name; longer ones may also be (a prefix of) a long name.
      const whole = this.byShort(name) ?? (name.length > 1 ? this.byLong(name) : undefined);
      if (whole) {
        takeValue(whole, `-${name}`, inline);
        continue;
      }
      const first = this.byShort(body[0]!);
      if (first?.hasArg) {
        // -tTopic: the rest of the token is the value.
        add(first, body.slice(1));
        continue;
      }
      if (first && [...body].every((c) => this.byShort(c) && !this.byShort(c)!.hasArg)) {
        for (const c of body) add(this.byShort(c)!, undefined);
        continue;
      }
      throw parseError(`unrecognized option: ${token}`);
    }
    return new ParsedOptions(values, args);
  }

  /** Usage text in commons-cli's HelpFormatter spirit: one line per option. */
  help(command: string): string {
    const rows = this.specs.map((s) => {
      const names = [s.short ? `-${s.short}` : '', s.long ? `--${s.long}` : ''].filter(Boolean).join(',');
      return [`${names}${s.hasArg ? ' <arg>' : ''}`, s.description] as const;
    });
    const width = Math.max(...rows.map(([n]) => n.length));
    return `usage: ${command}\n${rows.map(([n, d]) => ` ${n.padEnd(width)}   ${d}`).join('\n')}\n`;
  }
}

/** Java's Boolean.parseBoolean: only "true" (any case) is true. */
export function javaBoolean(value: string | undefined, fallback = false): boolean {
  return value === undefined ? fallback : value.toLowerCase() === 'true';
}

/** An integer option value; throws naming the option when it is not one. */
export function intOption(o: ParsedOptions, name: string, fallback: number): number {
  const v = o.value(name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw parseError(`option -${name}: '${v}' is not an integer`);
  return Number(v);
}

/** A decimal option value (rates). */
export function numberOption(o: ParsedOptions, name: string, fallback: number): number {
  const v = o.value(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) throw parseError(`option -${name}: '${v}' is not a number`);
  return n;
}
