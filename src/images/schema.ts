// The image schemas, resolved once from the descriptor JSON that the build compiled from proto/images.
// Types are resolved lazily (only the messages an image uses), so startup stays small.
import { readFileSync } from 'node:fs';

/** Wire-level scalar kinds plus 'enum' and 'message'. */
type FieldKind =
  | 'double' | 'float' | 'int32' | 'uint32' | 'sint32' | 'fixed32' | 'sfixed32'
  | 'int64' | 'uint64' | 'sint64' | 'fixed64' | 'sfixed64'
  | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

/** CRIU's custom field options (opts.proto), which drive crit's --pretty rendering. */
interface CriuFieldOptions {
  hex?: boolean;
  ipadd?: boolean;
  flags?: string;
  dev?: boolean;
  odev?: boolean;
  dict?: string;
  conv?: string;
}

export interface EnumType {
  name: string;
  byName: Map<string, number>;
  byNumber: Map<number, string>;
}

export interface FieldInfo {
  name: string;
  id: number;
  /** position in MessageType.fields */
  index: number;
  kind: FieldKind;
  repeated: boolean;
  required: boolean;
  packed: boolean;
  /** wire type of one (unpacked) value */
  wireType: number;
  is64: boolean;
  opts: CriuFieldOptions;
  enumType?: EnumType;
  /** the proto2 [default = ...] option, as the descriptor JSON gives it (a number, bool, string or enum name) */
  defaultValue?: unknown;
  /** resolved on first use */
  readonly messageType?: MessageType;
}

export interface MessageType {
  name: string;
  /** sorted by field number: the order protobuf-c and python write and list them */
  fields: FieldInfo[];
  byId: Map<number, FieldInfo>;
  byName: Map<string, FieldInfo>;
  /** fields indexed by number (sparse) for fast lookup while decoding */
  byNumber: (FieldInfo | undefined)[];
  /** the required fields: a message without one of them is invalid (protobuf-c and crit refuse it) */
  required: FieldInfo[];
}

interface JsonNamespace {
  nested?: Record<string, JsonNode>;
}
interface JsonNode extends JsonNamespace {
  fields?: Record<string, { rule?: string; type: string; id: number; options?: Record<string, unknown> }>;
  values?: Record<string, number>;
}

const WIRE: Record<string, number> = {
  double: 1, fixed64: 1, sfixed64: 1, float: 5, fixed32: 5, sfixed32: 5,
  string: 2, bytes: 2, message: 2,
};

/**
 * The message and enum types of one descriptor JSON (as scripts/build.mjs writes it from proto/),
 * resolved lazily and cached. cryo has two: the images (here) and CRIU's RPC (src/criu/rpc/codec.ts).
 */
export class SchemaSet {
  #root: JsonNamespace | undefined;
  readonly #messages = new Map<string, MessageType>();
  readonly #enums = new Map<string, EnumType>();

  /** `file` is relative to dist/proto, e.g. 'images.json'. */
  constructor(readonly file: string) {}

  #loadRoot(): JsonNamespace {
    // dist/src/images/schema.js -> dist/proto/FILE
    this.#root ??= JSON.parse(readFileSync(new URL(`../../proto/${this.file}`, import.meta.url), 'utf8')) as JsonNamespace;
    return this.#root;
  }

  #lookup(path: string[]): JsonNode | undefined {
    let node: JsonNode | undefined = this.#loadRoot();
    for (const p of path) {
      node = node?.nested?.[p];
      if (!node) return undefined;
    }
    return node;
  }

  /** Resolve a type reference the protobuf way: innermost scope first. Returns the full dotted path. */
  #resolveRef(scope: string[], ref: string): string[] | undefined {
    const parts = ref.replace(/^\./, '').split('.');
    if (ref.startsWith('.')) return this.#lookup(parts) ? parts : undefined;
    for (let i = scope.length; i >= 0; i--) {
      const cand = [...scope.slice(0, i), ...parts];
      if (this.#lookup(cand)) return cand;
    }
    return undefined;
  }

  #enumFor(path: string[]): EnumType {
    const key = path.join('.');
    let e = this.#enums.get(key);
    if (!e) {
      const node = this.#lookup(path)!;
      e = { name: key, byName: new Map(), byNumber: new Map() };
      for (const [n, v] of Object.entries(node.values!)) {
        e.byName.set(n, v);
        if (!e.byNumber.has(v)) e.byNumber.set(v, n);
      }
      this.#enums.set(key, e);
    }
    return e;
  }

  /** An enum type by its (dotted) name. */
  enumType(name: string): EnumType {
    const node = this.#lookup(name.split('.'));
    if (!node?.values) throw new Error(`unknown enum type ${name}`);
    return this.#enumFor(name.split('.'));
  }

  /** A message type by its (dotted) name, e.g. 'core_entry' or 'pagemap_head'. */
  messageType(name: string): MessageType {
    const cached = this.#messages.get(name);
    if (cached) return cached;
    const path = name.split('.');
    const node = this.#lookup(path);
    if (!node || !node.fields) throw new Error(`unknown message type ${name}`);
    const mt: MessageType = { name, fields: [], byId: new Map(), byName: new Map(), required: [], byNumber: [] };
    this.#messages.set(name, mt);
    for (const [fname, f] of Object.entries(node.fields)) {
      const o = f.options ?? {};
      const opts: CriuFieldOptions = {};
      if (o['(criu).hex']) opts.hex = true;
      if (o['(criu).ipadd']) opts.ipadd = true;
      if (o['(criu).dev']) opts.dev = true;
      if (o['(criu).odev']) opts.odev = true;
      if (typeof o['(criu).flags'] === 'string') opts.flags = o['(criu).flags'] as string;
      if (typeof o['(criu).dict'] === 'string') opts.dict = o['(criu).dict'] as string;
      if (typeof o['(criu).conv'] === 'string') opts.conv = o['(criu).conv'] as string;
      let kind: FieldKind;
      let enumType: EnumType | undefined;
      let msgPath: string[] | undefined;
      if (f.type in SCALARS) kind = f.type as FieldKind;
      else {
        const p = this.#resolveRef(path, f.type);
        if (!p) throw new Error(`unresolved type ${f.type} in ${name}`);
        const target = this.#lookup(p)!;
        if (target.values) { kind = 'enum'; enumType = this.#enumFor(p); }
        else { kind = 'message'; msgPath = p; }
      }
      const field: FieldInfo = {
        name: fname, id: f.id, index: 0, kind,
        repeated: f.rule === 'repeated', required: f.rule === 'required', packed: o.packed === true,
        wireType: WIRE[kind] ?? 0,
        is64: kind === 'int64' || kind === 'uint64' || kind === 'sint64' || kind === 'fixed64' || kind === 'sfixed64',
        opts, enumType,
      };
      if (o.default !== undefined) field.defaultValue = o.default;
      if (msgPath) {
        const target = msgPath.join('.');
        let resolved: MessageType | undefined;
        Object.defineProperty(field, 'messageType', { get: () => (resolved ??= this.messageType(target)), enumerable: false });
      }
      mt.fields.push(field);
    }
    mt.fields.sort((a, b) => a.id - b.id);
    mt.fields.forEach((f, i) => { f.index = i; });
    for (const f of mt.fields) { mt.byId.set(f.id, f); mt.byName.set(f.name, f); }
    mt.required = mt.fields.filter((f) => f.required);
    const maxId = mt.fields.reduce((m, f) => Math.max(m, f.id), 0);
    if (maxId < 4096) {
      mt.byNumber = new Array(maxId + 1).fill(undefined);
      for (const f of mt.fields) mt.byNumber[f.id] = f;
    }
    return mt;
  }
}

/** CRIU's image schemas (proto/images). */
const imageSchemas = new SchemaSet('images.json');

/** An image message type by its (dotted) name, e.g. 'core_entry' or 'pagemap_head'. */
export function messageType(name: string): MessageType {
  return imageSchemas.messageType(name);
}

const SCALARS: Record<string, true> = {
  double: true, float: true, int32: true, uint32: true, sint32: true, fixed32: true, sfixed32: true,
  int64: true, uint64: true, sint64: true, fixed64: true, sfixed64: true, bool: true, string: true, bytes: true,
};
