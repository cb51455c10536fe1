/**
 * Typed configuration keys with upstream's property names. A schema is data: each key has a kind,
 * a default and optional aliases (upstream's old spellings such as `mapedFileSizeCommitLog`), so
 * parsing, validation, `-p` printing and remote config updates all come from one table.
 * A bad value is an error naming the key and where it came from; it never silently becomes a default.
 */
import { RmqError, ErrorCode } from '../errors.js';

interface BaseDef {
  /** Other spellings accepted on input; output always uses the canonical name. */
  aliases?: readonly string[];
  /** Printed by `-m` (upstream's "important" keys). */
  important?: boolean;
}
export interface IntDef extends BaseDef {
  kind: 'int';
  default: number;
  min?: number;
  max?: number;
}
export interface BoolDef extends BaseDef {
  kind: 'bool';
  default: boolean;
}
export interface StringDef extends BaseDef {
  kind: 'string';
  default: string;
}
export interface EnumDef<E extends string = string> extends BaseDef {
  kind: 'enum';
  values: readonly E[];
  default: E;
}
export type ConfigDef = IntDef | BoolDef | StringDef | EnumDef;

type Opts<D> = Omit<D, 'kind' | 'default' | 'values'>;
export const intKey = (def: number, opts: Opts<IntDef> = {}): IntDef => ({
  kind: 'int',
  default: def,
  ...opts,
});
export const boolKey = (def: boolean, opts: Opts<BoolDef> = {}): BoolDef => ({
  kind: 'bool',
  default: def,
  ...opts,
});
export const stringKey = (def: string, opts: Opts<StringDef> = {}): StringDef => ({
  kind: 'string',
  default: def,
  ...opts,
});
export const enumKey = <E extends string>(
  values: readonly E[],
  def: E,
  opts: Opts<EnumDef<E>> = {},
): EnumDef<E> => ({
  kind: 'enum',
  values,
  default: def,
  ...opts,
});

type ValueOf<D> =
  D extends EnumDef<infer E> ? E : D extends IntDef ? number : D extends BoolDef ? boolean : string;
export type ConfigOf<S extends Record<string, ConfigDef>> = { -readonly [K in keyof S]: ValueOf<S[K]> };

const INT_RE = /^[+-]?\d+$/;

export class ConfigSchema<S extends Record<string, ConfigDef>> {
  private readonly byName = new Map<string, keyof S & string>();

  constructor(readonly defs: S) {
    for (const [name, def] of Object.entries(defs)) {
      this.byName.set(name, name);
      for (const alias of def.aliases ?? []) this.byName.set(alias, name);
    }
  }

  defaults(): ConfigOf<S> {
    const out: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(this.defs)) out[name] = def.default;
    return out as ConfigOf<S>;
  }

  /** Canonical key for a name or alias, or undefined when the schema does not know it. */
  resolve(name: string): (keyof S & string) | undefined {
    return this.byName.get(name);
  }

  /** Parses one raw value for a key; throws RmqError(CONFIG_INVALID) naming key and source. */
  parseValue(key: keyof S & string, raw: string, source: string): ConfigOf<S>[typeof key] {
    const def = this.defs[key]!;
    const value = raw.trim();
    const bad = (expected: string): never => {
      throw new RmqError(
        ErrorCode.CONFIG_INVALID,
        `${source}: invalid value '${raw}' for key '${key}', expected ${expected}`,
      );
    };
    switch (def.kind) {
      case 'int': {
        if (!INT_RE.test(value)) return bad('an integer');
        const n = Number(value);
        if (!Number.isSafeInteger(n)) return bad('an integer within ±2^53');
        if (def.min !== undefined && n < def.min) return bad(`an integer >= ${def.min}`);
        if (def.max !== undefined && n > def.max) return bad(`an integer <= ${def.max}`);
        return n as ConfigOf<S>[typeof key];
      }
      case 'bool': {
        const lower = value.toLowerCase();
        if (lower === 'true') return true as ConfigOf<S>[typeof key];
        if (lower === 'false') return false as ConfigOf<S>[typeof key];
        return bad('true or false');
      }
      case 'enum': {
        if (!def.values.includes(value)) return bad(`one of ${def.values.join(', ')}`);
        return value as ConfigOf<S>[typeof key];
      }
      case 'string':
        return value as ConfigOf<S>[typeof key];
    }
  }

  /**
   * Applies the known keys of `props` to `target`; returns the names this schema does not know.
   * All values are validated before any is applied, so a bad file leaves `target` untouched.
   */
  apply(target: ConfigOf<S>, props: Map<string, string>, source: string): string[] {
    const unknown: string[] = [];
    const parsed: [keyof S & string, unknown][] = [];
    for (const [name, raw] of props) {
      const key = this.resolve(name);
      if (key === undefined) {
        unknown.push(name);
        continue;
      }
      parsed.push([key, this.parseValue(key, raw, source)]);
    }
    for (const [key, value] of parsed) (target as Record<string, unknown>)[key] = value;
    return unknown;
  }

  entries(config: ConfigOf<S>, onlyImportant = false): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, def] of Object.entries(this.defs)) {
      if (onlyImportant && !def.important) continue;
      out.push([name, String((config as Record<string, unknown>)[name])]);
    }
    return out;
  }
}

/** What applyToAll needs of a schema, whatever its keys. */
export interface SchemaLike {
  resolve(name: string): string | undefined;
  parseValue(key: string, raw: string, source: string): unknown;
  apply(target: object, props: Map<string, string>, source: string): string[];
}

/**
 * Applies one property map to several schemas (a broker file holds broker, store and server keys)
 * and returns the keys none of them knows.
 */
export function applyToAll(
  props: Map<string, string>,
  source: string,
  targets: readonly [SchemaLike, object][],
): string[] {
  const unknown = new Set(props.keys());
  const perTarget: Map<string, string>[] = targets.map(() => new Map());
  for (const [name, raw] of props) {
    targets.forEach(([schema], i) => {
      if (schema.resolve(name) !== undefined) {
        perTarget[i]!.set(name, raw);
        unknown.delete(name);
      }
    });
  }
  // Validate everything first so a bad value leaves all targets untouched.
  targets.forEach(([schema], i) => {
    for (const [name, raw] of perTarget[i]!) schema.parseValue(schema.resolve(name)!, raw, source);
  });
  targets.forEach(([schema, target], i) => schema.apply(target, perTarget[i]!, source));
  return [...unknown];
}
