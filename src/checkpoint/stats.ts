// CRIU's statistics of a checkpoint (stats-dump, stats-restore): the one reader, CRIU's names and
// units (times in µs).
import { join } from 'node:path';
import type { DumpStats, RestoreStats } from './meta.js';
import { CryoError } from '../errors.js';
import { readImageEntries } from '../images/read-image.js';

export interface CheckpointStats {
  dump?: DumpStats;
  restore?: RestoreStats;
}

function readOne(file: string, key: 'dump' | 'restore'): Record<string, number> | undefined {
  let entries: Array<Record<string, unknown>>;
  try {
    entries = readImageEntries(file, { magic: 'STATS' }) as Array<Record<string, unknown>>;
  } catch (e) {
    if (e instanceof CryoError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  const rec = entries[0]?.[key];
  if (!rec || typeof rec !== 'object') return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec)) if (typeof v === 'number' || typeof v === 'bigint') out[k] = Number(v);
  return out;
}

/** stats-dump and stats-restore of an images directory (or of `restoreDir` for the restore's); absent files give undefined. */
export function readStats(dir: string, restoreDir = dir): CheckpointStats {
  const out: CheckpointStats = {};
  const dump = readOne(join(dir, 'stats-dump'), 'dump');
  const restore = readOne(join(restoreDir, 'stats-restore'), 'restore');
  if (dump) out.dump = dump as DumpStats;
  if (restore) out.restore = restore as RestoreStats;
  return out;
}
