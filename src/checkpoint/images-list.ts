// The image files of a checkpoint directory with their sizes (and sha256s where asked), as the
// checkpoint description lists them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { MARKER } from './meta-file.js';
import type { CheckpointFile } from './meta.js';

/** The hex sha256 of a file's bytes. */
async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was written' });
    h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

/** Regular files of `dir` but cryo.json, sorted by name; anything else there (links, FIFOs, dirs) is refused. */
export async function listImages(dir: string, opts: { hash?: boolean; signal?: AbortSignal } = {}): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name === MARKER) continue;
    const st = await lstat(join(dir, name));
    if (!st.isFile()) {
      throw new CryoError('FAILED', `${join(dir, name)} is not a regular file`, { hint: 'a checkpoint holds only regular image files; remove it' });
    }
    const f: CheckpointFile = { name, size: st.size };
    if (opts.hash) f.sha256 = await hashFile(join(dir, name), opts.signal);
    files.push(f);
  }
  if (files.length === 0) throw new CryoError('NOT_FOUND', `no image files in ${dir}`, { hint: 'pass a directory written by cryo dump or criu dump' });
  return files;
}
