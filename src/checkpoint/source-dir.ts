// A checkpoint directory, read where it is.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { readMeta } from './meta-file.js';
import type { OpenedCheckpoint } from './source.js';

export function openDir(path: string): OpenedCheckpoint {
  const dir = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: no such directory`, { hint: 'pass a checkpoint directory written by cryo dump -D, or an archive written by cryo dump -o' });
  }
  if (!isDir) throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: not a directory`, { hint: 'pass a checkpoint directory or an archive' });
  return { kind: 'dir', path: dir, dir, meta: readMeta(dir), privateCopy: false, close: async () => {} };
}
