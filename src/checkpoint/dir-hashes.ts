// A checkpoint directory's files against its cryo.json: sizes always, sha256s when cryo.json has
// them. The dump adds the hashes after the tree was released (no downtime), by rewriting cryo.json
// atomically (a private temp file renamed over it).
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { hashFile } from './images-list.js';
import { MARKER } from './meta-file.js';
import type { CheckpointMeta } from './meta.js';
import { tempFileName } from './temp-names.js';

function damaged(dir: string, file: string, what: string): CryoError {
  return new CryoError('BAD_IMAGE', `the checkpoint at ${dir} is damaged: ${file} ${what}`, {
    hint: 'use a complete copy or dump again', details: { file },
  });
}

/** Throws BAD_IMAGE (exit 4) unless every file of `meta` is a regular file of its size (and sha256, when recorded). */
export async function checkDirFiles(dir: string, meta: CheckpointMeta, opts: { hash?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  for (const f of meta.files) {
    let size: number | undefined;
    try {
      const st = lstatSync(join(dir, f.name));
      size = st.isFile() ? st.size : undefined;
    } catch {
      size = undefined;
    }
    if (size !== f.size) throw damaged(dir, f.name, size === undefined ? 'is missing or not a regular file' : `has ${size} bytes, cryo.json says ${f.size}`);
  }
  if (opts.hash === false || !meta.hashes) return;
  for (const f of meta.files) {
    if (!f.sha256) throw damaged(dir, f.name, 'has no sha256 in cryo.json, which says every file has one');
    if ((await hashFile(join(dir, f.name), opts.signal)) !== f.sha256) throw damaged(dir, f.name, 'does not match its sha256 in cryo.json');
  }
}

/** Hashes every file of a committed directory and rewrites its cryo.json with them; returns the new meta. */
export async function addDirHashes(dir: string, meta: CheckpointMeta, signal?: AbortSignal): Promise<CheckpointMeta> {
  const files = [];
  for (const f of meta.files) files.push({ ...f, sha256: await hashFile(join(dir, f.name), signal) });
  const next: CheckpointMeta = { ...meta, hashes: true, files };
  await checkDirFiles(dir, next, { hash: false });
  const tmp = tempFileName(dir, MARKER);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(next, null, 2)}\n`);
    fsyncSync(fd);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, MARKER));
  return next;
}
