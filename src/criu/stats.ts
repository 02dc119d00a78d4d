// CRIU's own statistics (stats-dump / stats-restore), in CRIU's field names and units (times in µs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { CryoError } from '../errors.js';

export interface DumpStats {
  freezing_time: number;
  frozen_time: number;
  memdump_time: number;
  memwrite_time: number;
  pages_scanned: number;
  pages_skipped_parent: number;
  pages_written: number;
  pages_lazy: number;
  [field: string]: number;
}

export interface RestoreStats {
  pages_compared: number;
  pages_skipped_cow: number;
  forking_time: number;
  restore_time: number;
  pages_restored?: number;
  [field: string]: number | undefined;
}

const IMG_COMMON = 0x54564319;
const IMG_SERVICE = 0x55105940;

let json: { nested: Record<string, { fields?: Record<string, { type: string }> }> } | undefined;
const roots = new Map<string, protobuf.Root>();

/**
 * A protobufjs Root holding only `type` and the message types it refers to (from
 * dist/proto/images.json): building the whole schema costs tens of ms, a dump must not pay that.
 */
export function imageSchema(type: string): protobuf.Root {
  let root = roots.get(type);
  if (root) return root;
  json ??= JSON.parse(readFileSync(new URL('../../proto/images.json', import.meta.url), 'utf8'));
  const nested: Record<string, unknown> = {};
  const add = (name: string) => {
    const def = json!.nested[name];
    if (!def || nested[name]) return;
    nested[name] = def;
    for (const f of Object.values(def.fields ?? {})) add(f.type);
  };
  add(type);
  root = protobuf.Root.fromJSON({ nested } as protobuf.INamespace);
  roots.set(type, root);
  return root;
}

/**
 * Entries of a small protobuf image file: [IMG_COMMON|IMG_SERVICE] magic, then u32 size + message.
 * Only for images without extra payloads (stats, pstree, inventory).
 */
export function readSimpleImage(file: string, type: string): Array<Record<string, unknown>> {
  const buf = readFileSync(file);
  const T = imageSchema(type).lookupType(type);
  let off = 0;
  if (buf.length < 4) throw badImage(file, 'too short for a magic');
  const first = buf.readUInt32LE(0);
  off = first === IMG_COMMON || first === IMG_SERVICE ? 8 : 4;
  const out: Array<Record<string, unknown>> = [];
  while (off < buf.length) {
    if (off + 4 > buf.length) throw badImage(file, `truncated entry size at offset ${off}`);
    const size = buf.readUInt32LE(off);
    off += 4;
    if (off + size > buf.length) throw badImage(file, `entry of ${size} bytes at offset ${off} runs past the end`);
    try {
      out.push(T.toObject(T.decode(buf.subarray(off, off + size)), { longs: Number, enums: String }) as Record<string, unknown>);
    } catch (e) {
      throw badImage(file, `cannot decode ${type} at offset ${off}: ${(e as Error).message}`, e);
    }
    off += size;
  }
  return out;
}

function badImage(file: string, what: string, cause?: unknown): CryoError {
  return new CryoError('BAD_IMAGE', `bad image ${file}: ${what}`, {
    hint: 'the checkpoint is damaged or was not written by CRIU; dump again',
    cause,
    details: { file },
  });
}

/** Reads stats-dump and stats-restore from an images directory; a missing file gives undefined. */
export function readStats(dir: string): { dump?: DumpStats; restore?: RestoreStats } {
  return { dump: readOne(dir, 'stats-dump', 'dump') as DumpStats | undefined, restore: readOne(dir, 'stats-restore', 'restore') as RestoreStats | undefined };
}

function readOne(dir: string, name: string, key: 'dump' | 'restore'): Record<string, number> | undefined {
  let entries: Array<Record<string, unknown>>;
  try {
    entries = readSimpleImage(join(dir, name), 'stats_entry');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return entries[0]?.[key] as Record<string, number> | undefined;
}
