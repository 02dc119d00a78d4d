// The small images a checkpoint's own bookkeeping reads (pstree, stats, inventory), through the one
// codec, 64-bit values as plain numbers (CRIU's pids and counters stay far below 2^53).
import { readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { decodeImage } from '../images/image.js';

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
 * Entries of a small image file that must carry `magic` (crit's name: 'PSTREE', 'STATS', ...).
 * A missing file throws its ENOENT error as is; a damaged or foreign one a BAD_IMAGE CryoError.
 */
export function readSmallImage(file: string, magic: string): Array<Record<string, unknown>> {
  const buf = readFileSync(file);
  const img = decodeImage(buf, { name: file }); // damage: the codec's BAD_IMAGE error, naming file and offset
  if (img.magic !== magic) {
    throw new CryoError('BAD_IMAGE', `bad image ${file}: expected a ${magic} image, found ${img.magic || 'no known magic'}`, {
      hint: 'the checkpoint is damaged or was not written by CRIU; dump again',
      details: { file },
    });
  }
  return img.entries.map((e) => plain(e) as Record<string, unknown>);
}
