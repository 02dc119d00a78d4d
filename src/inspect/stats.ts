// CRIU's statistics of a checkpoint (stats-dump, stats-restore), as CRIU wrote them: times in µs.
import { CryoError } from '../errors.js';
import { ImageDir } from './images.js';

export type StatsRecord = Record<string, number>;

export interface CheckpointStats {
  dump?: StatsRecord;
  restore?: StatsRecord;
}

function plain(e: Record<string, unknown> | undefined): StatsRecord | undefined {
  if (!e) return undefined;
  const out: StatsRecord = {};
  for (const [k, v] of Object.entries(e)) if (typeof v === 'number' || typeof v === 'bigint') out[k] = Number(v);
  return out;
}

export function readCheckpointStats(dirOrImages: string | ImageDir): CheckpointStats {
  const img = typeof dirOrImages === 'string' ? new ImageDir(dirOrImages) : dirOrImages;
  const dump = plain(img.optional('stats-dump')?.[0]?.dump);
  const restore = plain(img.optional('stats-restore')?.[0]?.restore);
  if (!dump && !restore) {
    throw new CryoError('NOT_FOUND', `no statistics in ${img.dir} (neither stats-dump nor stats-restore)`, {
      hint: 'CRIU writes stats-dump when it dumps into the directory, stats-restore when it restores from it',
      details: { dir: img.dir },
    });
  }
  const out: CheckpointStats = {};
  if (dump) out.dump = dump;
  if (restore) out.restore = restore;
  return out;
}
