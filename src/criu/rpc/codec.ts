// CRIU's RPC messages (proto/rpc/rpc.proto) to and from bytes with cryo's own protobuf wire code (the
// image codec's), so a dump or restore does not load and build a reflection library at every start.
// Plain objects use rpc.proto's field names; enums travel as names, 64-bit values as numbers.
import { usageError } from '../../errors.js';
import { SchemaSet, type FieldInfo, type MessageType } from '../../images/schema.js';
import { decodeMessage, encodeMessage, type Entry } from '../../images/wire.js';
import type { CriuRequest, CriuResponse } from './types.js';

const rpc = new SchemaSet('rpc.json');

/** A request or answer object that does not fit rpc.proto. */
class ShapeError extends Error {}

function describe(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function valueToWire(f: FieldInfo, v: unknown): unknown {
  if (f.kind === 'enum') {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    const n = typeof v === 'string' ? f.enumType!.byName.get(v) : undefined;
    if (n === undefined) throw new ShapeError(`expected a ${f.enumType!.name} name, got ${describe(v)}`);
    return n;
  }
  if (f.kind === 'message') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(`${f.name}: expected an object, got ${describe(v)}`);
    return toWire(f.messageType!, v as Record<string, unknown>);
  }
  return v;
}

/** Names to numbers for enums, checked field names, required fields with a [default] filled in. */
function toWire(type: MessageType, obj: Record<string, unknown>): Entry {
  const out: Entry = {};
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    const f = type.byName.get(key);
    if (!f) throw new ShapeError(`unknown ${type.name} field "${key}"`);
    out[key] = f.repeated && Array.isArray(v) ? v.map((x) => valueToWire(f, x)) : valueToWire(f, v);
  }
  // CRIU (protobuf-c) refuses a message without its required fields; rpc.proto gives images_dir_fd a default
  for (const f of type.required) if (out[f.name] === undefined && f.defaultValue !== undefined) out[f.name] = valueToWire(f, f.defaultValue);
  return out;
}

function valueFromWire(f: FieldInfo, v: unknown): unknown {
  if (f.kind === 'enum') return f.enumType!.byNumber.get(v as number) ?? v;
  if (f.kind === 'message') return fromWire(f.messageType!, v as Entry);
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** Numbers to names for enums, 64-bit values as numbers; unknown fields are dropped. */
function fromWire(type: MessageType, e: Entry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    const f = type.byName.get(key);
    if (!f) continue;
    const v = e[key];
    out[key] = f.repeated && Array.isArray(v) ? v.map((x) => valueFromWire(f, x)) : valueFromWire(f, v);
  }
  return out;
}

function encode(typeName: string, obj: object): Uint8Array {
  let wire: Entry;
  try {
    wire = toWire(rpc.messageType(typeName), obj as Record<string, unknown>);
  } catch (e) {
    if (e instanceof ShapeError) throw usageError(e.message, 'use the field and enum names of rpc.proto (snake_case fields, upper-case enum names)');
    throw e;
  }
  try {
    return encodeMessage(rpc.messageType(typeName), wire);
  } catch (e) {
    throw usageError(`invalid CRIU request: ${(e as Error).message}`, 'check the field types against rpc.proto (numbers, strings, booleans where it says so)');
  }
}

/** criu_req → bytes. Unknown fields and enum names are usage errors (nothing is dropped silently). */
export function encodeCriuRequest(req: CriuRequest): Uint8Array {
  return encode('criu_req', req);
}

/** bytes → criu_resp as a plain object (enums by name); throws on truncated or invalid protobuf. */
export function decodeCriuResponse(data: Uint8Array): CriuResponse {
  const t = rpc.messageType('criu_resp');
  return fromWire(t, decodeMessage(t, data)) as unknown as CriuResponse;
}

/** For fakes and tests: criu_resp → bytes. */
export function encodeCriuResponse(resp: CriuResponse): Uint8Array {
  return encode('criu_resp', resp);
}

/** For fakes and tests: bytes → criu_req. */
export function decodeCriuRequest(data: Uint8Array): CriuRequest {
  const t = rpc.messageType('criu_req');
  return fromWire(t, decodeMessage(t, data)) as unknown as CriuRequest;
}
