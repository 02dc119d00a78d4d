// CRIU's own statistics (stats-dump / stats-restore), in CRIU's field names and units (times in µs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { decodeImage } from '../images/image.js';

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

/** What the image of each simple type is called in errors and which magic it must carry. */
const EXPECTED: Record<string, string> = { stats_entry: 'STATS', pstree_entry: 'PSTREE', inventory_entry: 'INVENTORY' };

/** 64-bit values (bigint in the codec) as numbers: CRIU's counters and pids stay far below 2^53. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/**
 * Entries of a small image file (stats, pstree, inventory) through cryo's codec, 64-bit values as
 * numbers. A missing file throws the ENOENT error as is; a damaged one a BAD_IMAGE CryoError.
 */
export function readSimpleImage(file: string, type: keyof typeof EXPECTED | string): Array<Record<string, unknown>> {
  const buf = readFileSync(file);
  const img = decodeImage(buf, { name: file }); // damage: the codec's BAD_IMAGE error, naming file and offset
  const want = EXPECTED[type];
  if (want && img.magic !== want) throw badImage(file, `expected a ${want} image, found ${img.magic || 'no known magic'}`);
  return img.entries.map((e) => plain(e) as Record<string, unknown>);
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
