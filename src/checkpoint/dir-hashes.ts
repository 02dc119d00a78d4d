// A checkpoint directory's files against its cryo.json: sizes always, sha256s when cryo.json has
// them. The dump adds the hashes after the tree was released (no downtime), by rewriting cryo.json
// atomically (a private temp file renamed over it).
import { createHash } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { MARKER } from './meta-file.js';
import type { CheckpointMeta } from './meta.js';
import { tempFileName } from './temp-names.js';

const CHUNK = 1 << 20;
/** bytes hashed between two turns of the event loop (an abort or a signal handler gets its turn) */
const YIELD_EVERY = 32 << 20;

/**
 * The hex sha256 of each file, in order: synchronous reads into one reused buffer (a read stream per
 * small image file costs ten times the hashing), yielding to the event loop every 32 MiB.
 */
async function hashFiles(dir: string, names: string[], signal?: AbortSignal): Promise<string[]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const out: string[] = [];
  let sinceYield = 0;
  for (const name of names) {
    const fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const h = createHash('sha256');
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        sinceYield += n;
        if (sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
          if (signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was written' });
        }
      }
      out.push(h.digest('hex'));
    } finally {
      closeSync(fd);
    }
  }
  if (signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was written' });
  return out;
}

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
  // the files before the first one without a sha256 are compared first, as one pass in order would
  const unhashed = meta.files.findIndex((f) => !f.sha256);
  const listed = unhashed < 0 ? meta.files : meta.files.slice(0, unhashed);
  const got = await hashFiles(dir, listed.map((f) => f.name), opts.signal);
  listed.forEach((f, i) => {
    if (got[i] !== f.sha256) throw damaged(dir, f.name, 'does not match its sha256 in cryo.json');
  });
  if (unhashed >= 0) throw damaged(dir, meta.files[unhashed]!.name, 'has no sha256 in cryo.json, which says every file has one');
}

/** Hashes every file of a committed directory and rewrites its cryo.json with them; returns the new meta. */
export async function addDirHashes(dir: string, meta: CheckpointMeta, signal?: AbortSignal): Promise<CheckpointMeta> {
  const sums = await hashFiles(dir, meta.files.map((f) => f.name), signal);
  const files = meta.files.map((f, i) => ({ ...f, sha256: sums[i]! }));
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
