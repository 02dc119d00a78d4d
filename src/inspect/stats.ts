// CRIU's statistics of a checkpoint for `cryo stats`: the checkpoint's one stats reader, and a clear
// error when there are none.
import { CryoError } from '../errors.js';
import { readStats, type CheckpointStats } from '../checkpoint/stats.js';
import { ImageDir } from './images.js';

export type { CheckpointStats };

export function readCheckpointStats(dirOrImages: string | ImageDir): CheckpointStats {
  const dir = typeof dirOrImages === 'string' ? new ImageDir(dirOrImages).dir : dirOrImages.dir;
  const stats = readStats(dir);
  if (!stats.dump && !stats.restore) {
    throw new CryoError('NOT_FOUND', `no statistics in ${dir} (neither stats-dump nor stats-restore)`, {
      hint: 'CRIU writes stats-dump when it dumps into the directory, stats-restore when it restores from it',
      details: { dir },
    });
  }
  return stats;
}
