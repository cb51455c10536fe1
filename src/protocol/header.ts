/**
 * Typed custom headers. A header is described by data: each field's kind, whether upstream marks
 * it @CFNotNull, and the name it travels under (SEND_MESSAGE_V2 uses one-letter aliases). From one
 * descriptor come decoding (strict: a missing required field or a non-number is an error result,
 * never an exception), encoding (every value a string), and the TypeScript type.
 */
export type FieldKind = 'string' | 'int' | 'long' | 'bool' | 'double';

interface KindTypes {
  string: string;
  int: number;
  long: number;
  bool: boolean;
  double: number;
}

export interface FieldSpec<K extends FieldKind = FieldKind, R extends boolean = boolean> {
  kind: K;
  required: R;
  /** Name on the wire when it differs from the field name (V2 headers). */
  wire?: string;
}

export function required<K extends FieldKind>(kind: K, wire?: string): FieldSpec<K, true> {
  return wire === undefined ? { kind, required: true } : { kind, required: true, wire };
}

export function optional<K extends FieldKind>(kind: K, wire?: string): FieldSpec<K, false> {
  return wire === undefined ? { kind, required: false } : { kind, required: false, wire };
}

export type FieldMap = Record<string, FieldSpec>;

type RequiredKeys<D extends FieldMap> = {
  [K in keyof D]: D[K]['required'] extends true ? K : never;
}[keyof D];
type OptionalKeys<D extends FieldMap> = Exclude<keyof D, RequiredKeys<D>>;

export type HeaderOf<D extends FieldMap> = { [K in RequiredKeys<D>]: KindTypes[D[K]['kind']] } & {
  [K in OptionalKeys<D>]?: KindTypes[D[K]['kind']] | undefined;
};

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

const INT_RE = /^-?\d+$/;

export class HeaderDescriptor<D extends FieldMap> {
  private readonly entries: [string, FieldSpec, string][];

  constructor(
    readonly name: string,
    readonly fields: D,
  ) {
    this.entries = Object.entries(fields).map(([k, spec]) => [k, spec, spec.wire ?? k]);
  }

  decode(ext: Record<string, string> | undefined): DecodeResult<HeaderOf<D>> {
    const out: Record<string, unknown> = {};
    for (const [key, spec, wire] of this.entries) {
      const raw = ext?.[wire];
      if (raw === undefined || raw === null || (raw === '' && spec.kind !== 'string')) {
        if (spec.required) return { ok: false, error: `${this.name}: missing required field ${wire}` };
        continue;
      }
      switch (spec.kind) {
        case 'string':
          out[key] = raw;
          break;
        case 'int':
        case 'long': {
          if (!INT_RE.test(raw))
            return { ok: false, error: `${this.name}: field ${wire}='${raw}' is not an integer` };
          const n = Number(raw);
          if (spec.kind === 'int' ? n < -2147483648 || n > 2147483647 : !Number.isSafeInteger(n)) {
            return { ok: false, error: `${this.name}: field ${wire}='${raw}' is out of range` };
          }
          out[key] = n;
          break;
        }
        case 'double': {
          const n = Number(raw);
          if (Number.isNaN(n))
            return { ok: false, error: `${this.name}: field ${wire}='${raw}' is not a number` };
          out[key] = n;
          break;
        }
        case 'bool':
          // Java's Boolean.parseBoolean: anything but "true" (any case) is false.
          out[key] = raw.toLowerCase() === 'true';
          break;
      }
    }
    return { ok: true, value: out as HeaderOf<D> };
  }

  encode(value: HeaderOf<D>): Record<string, string> {
    const out: Record<string, string> = {};
    const v = value as Record<string, unknown>;
    for (const [key, , wire] of this.entries) {
      const x = v[key];
      if (x !== undefined && x !== null) out[wire] = String(x);
    }
    return out;
  }
}

export function defineHeader<D extends FieldMap>(name: string, fields: D): HeaderDescriptor<D> {
  return new HeaderDescriptor(name, fields);
}
