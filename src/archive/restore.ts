// restoreFromArchive: the archive is streamed (a file or stdin, no seeking) into a 0700 staging
// dir, every image is checked against the manifest, and only a fully verified directory is
// handed to CRIU. A corrupted or truncated archive restores nothing (BAD_ARCHIVE, exit 4).
import { copyFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CryoError, isCryoError } from '../errors.js';
import type { RestoreOptions, RestoreResult } from '../criu/restore.js';
import type { ArchiveManifest } from './format.js';
import { extractArchive, readManifest, type ArchiveInput, type ReadArchiveOptions } from './read.js';
import { createStaging, stagingRootFor } from './staging.js';

export interface RestoreFromArchiveOptions extends RestoreOptions, ReadArchiveOptions {}

export interface RestoreFromArchiveResult extends RestoreResult {
  manifest: ArchiveManifest;
  /** reading, verifying and extracting the archive, ms */
  extractMs: number;
  /** CRIU's part, ms */
  restoreMs: number;
  /** archive bytes read */
  bytes: number;
}

export async function restoreFromArchive(input: ArchiveInput, opts: RestoreFromArchiveOptions = {}): Promise<RestoreFromArchiveResult> {
  const { restore } = await import('../criu/restore.js');
  // a file's manifest says how much room the images need; stdin cannot be read twice
  const size = typeof input === 'string' && input !== '-' ? (await readManifest(input)).totalBytes : 0;
  const staging = await createStaging('restore', stagingRootFor(size));
  const dir = join(staging.dir, 'images');
  try {
    const t0 = performance.now();
    const report = await extractArchive(input, dir, { progress: opts.progress, signal: opts.signal });
    const extractMs = performance.now() - t0;
    if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted before the restore', { hint: 'nothing was restored' });
    const t1 = performance.now();
    let r: RestoreResult;
    try {
      // no abort signal: a restore is short and must not be cut in half
      const { signal: _signal, progress: _progress, ...restoreOpts } = opts;
      r = await restore(dir, restoreOpts);
    } catch (e) {
      throw keepRestoreLog(e, dir);
    }
    return {
      ...r,
      manifest: report.manifest,
      bytes: report.bytes,
      extractMs: Math.round(extractMs * 10) / 10,
      restoreMs: Math.round((performance.now() - t1) * 10) / 10,
    };
  } finally {
    await staging.remove();
  }
}

function keepRestoreLog(e: unknown, dir: string): unknown {
  const log = join(dir, 'restore.log');
  if (!isCryoError(e) || !existsSync(log)) return e;
  const kept = join(os.tmpdir(), `cryo-restore-failed-${process.pid}-${Date.now()}.log`);
  try {
    copyFileSync(log, kept);
  } catch {
    return e;
  }
  return new CryoError(e.code, e.message, { hint: e.hint?.split(log).join(kept), cause: e.cause, details: { ...e.details, logPath: kept }, exitCode: e.exitCode });
}
