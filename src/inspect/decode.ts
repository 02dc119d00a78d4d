// Decoding of the images inspection reads. Delegates to the codec (src/images) for framing and
// schemas when it is present; the message type comes from the file name.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { CryoError } from '../errors.js';

const IMG_COMMON = 0x54564319;
const IMG_SERVICE = 0x55105940;
const INVENTORY = 0x58313116;

/** File name pattern -> [first entry type, following entries type]. */
const TYPES: Array<[RegExp, string, string]> = [
  [/^inventory\.img$/, 'inventory_entry', 'inventory_entry'],
  [/^pstree\.img$/, 'pstree_entry', 'pstree_entry'],
  [/^core-\d+\.img$/, 'core_entry', 'core_entry'],
  [/^mm-\d+\.img$/, 'mm_entry', 'mm_entry'],
  [/^pagemap(-shmem)?-\d+\.img$/, 'pagemap_head', 'pagemap_entry'],
  [/^files\.img$/, 'file_entry', 'file_entry'],
  [/^fdinfo-\d+\.img$/, 'fdinfo_entry', 'fdinfo_entry'],
  [/^fs-\d+\.img$/, 'fs_entry', 'fs_entry'],
  [/^ids-\d+\.img$/, 'task_kobj_ids_entry', 'task_kobj_ids_entry'],
  [/^stats-(dump|restore)$/, 'stats_entry', 'stats_entry'],
  [/^mountpoints-\d+\.img$/, 'mnt_entry', 'mnt_entry'],
];

let root: protobuf.Root | undefined;
function schema(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(JSON.parse(readFileSync(new URL('../../proto/images.json', import.meta.url), 'utf8')));
  return root;
}

function bad(path: string, what: string): CryoError {
  return new CryoError('BAD_IMAGE', `${path}: ${what}`, { hint: 'the checkpoint is truncated or damaged; dump again', details: { file: path } });
}

/** Decode every entry of an image file whose type is known from its name. */
export function decodeImageFile(path: string, name: string): Record<string, any>[] {
  const spec = TYPES.find(([re]) => re.test(name));
  if (!spec) throw new CryoError('BAD_IMAGE', `${name}: not an image inspection knows how to read`, { details: { file: path } });
  const buf = readFileSync(path);
  return decodeImageBuffer(buf, path, spec[1], spec[2]);
}

export function decodeImageBuffer(buf: Buffer, path: string, firstType: string, restType: string): Record<string, any>[] {
  if (buf.length < 4) throw bad(path, 'too short to be an image');
  const m0 = buf.readUInt32LE(0);
  let off: number;
  if (m0 === INVENTORY) off = 4;
  else if (m0 === IMG_COMMON || m0 === IMG_SERVICE) off = 8;
  else throw bad(path, `unknown magic 0x${m0.toString(16)}`);
  const first = schema().lookupType(firstType);
  const rest = schema().lookupType(restType);
  const out: Record<string, any>[] = [];
  while (off < buf.length) {
    if (off + 4 > buf.length) throw bad(path, `truncated entry header at offset ${off}`);
    const size = buf.readUInt32LE(off);
    off += 4;
    if (off + size > buf.length) throw bad(path, `entry at offset ${off - 4} claims ${size} bytes, only ${buf.length - off} left`);
    const type = out.length === 0 ? first : rest;
    let msg: protobuf.Message;
    try {
      msg = type.decode(buf.subarray(off, off + size));
    } catch (e) {
      throw new CryoError('BAD_IMAGE', `${path}: entry at offset ${off - 4} does not decode as ${type.name}`, { cause: e, details: { file: path } });
    }
    out.push(normalize(type.toObject(msg, { enums: Number, bytes: Buffer, defaults: false, arrays: true })) as Record<string, any>);
    off += size;
  }
  return out;
}

/** Long -> bigint, Uint8Array -> Buffer, recursively. */
function normalize(v: any): any {
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v.low === 'number' && typeof v.high === 'number' && typeof v.unsigned === 'boolean') {
    const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return v.unsigned ? u : BigInt.asIntN(64, u);
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalize(v[i]);
    return v;
  }
  for (const k of Object.keys(v)) v[k] = normalize(v[k]);
  return v;
}
