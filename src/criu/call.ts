// One CRIU request for dump/restore over the RPC client, and CRIU failures turned into plain words.
import { readFileSync } from 'node:fs';
import { CryoError, isCryoError } from '../errors.js';
import { explainFailure } from './explain.js';
import type { CriuBinary } from './find.js';
import { firstErrors, logMessage } from './log.js';
import type { CriuHooks, CriuRequest, CriuResponse } from './rpc/types.js';

export type CriuCallHooks = CriuHooks;

/** Sends one request to a fresh `criu swrk` and returns CRIU's successful answer (throws otherwise). */
export async function callCriu(
  criu: CriuBinary,
  req: CriuRequest,
  opts: { imagesDir: string; workDir?: string; hooks?: CriuHooks; signal?: AbortSignal },
): Promise<CriuResponse> {
  const { criuCall } = await import('./rpc/one-shot.js');
  return criuCall(criu, req, { imagesDir: opts.imagesDir, logDir: opts.workDir, hooks: opts.hooks, signal: opts.signal, errorCode: 'RPC' });
}

/** CRIU log lines that mean an image file is short, foreign or missing. */
const BAD_IMAGE_LINE = /Read \d+ bytes while \d+ expected|magic doesn't match|Unexpected EOF|No \S+\.img image|Can't open image|Unable to open .*\.img|corrupted/i;

/** A failed CRIU dump/restore as one CryoError: the plain cause, the fix and the log's path. */
export function failureFromCriu(action: 'dump' | 'restore', e: unknown, logPath: string, details: Record<string, unknown>): CryoError {
  if (isCryoError(e) && (e.exitCode === 3 || e.code === 'USAGE')) return e;
  const d = isCryoError(e) ? e.details : {};
  const crErrno = typeof d.crErrno === 'number' ? d.crErrno : undefined;
  const crErrmsg = typeof d.crErrmsg === 'string' ? d.crErrmsg : undefined;
  let log = '';
  try {
    log = readFileSync(logPath, 'utf8');
  } catch {
    /* no log */
  }
  const ex = explainFailure({ action, log, crErrno, crErrmsg });
  const first = firstErrors(log, 1)[0];
  const cause = ex?.cause ?? (first ? `CRIU: ${logMessage(first)}` : (e as Error)?.message ?? String(e));
  const running = details.running;
  const tail = action === 'dump' && running === true ? ' (the tree still runs)' : action === 'dump' && running === false ? ' (the tree is gone)' : '';
  const hint = [ex?.fix, log ? `log: ${logPath}` : undefined].filter(Boolean).join('; ') || 'run again with --debug for CRIU details';
  // CRIU could not read the images: the checkpoint is damaged (exit 4), not the environment
  const badImage = action === 'restore' && BAD_IMAGE_LINE.test(first ?? crErrmsg ?? '');
  return new CryoError(badImage ? 'BAD_IMAGE' : action === 'dump' ? 'DUMP_FAILED' : 'RESTORE_FAILED', `${action} failed: ${cause}${tail}`, {
    hint: badImage ? `the checkpoint is damaged; dump again${log ? `; log: ${logPath}` : ''}` : hint,
    cause: e,
    details: { ...d, ...details, logPath: log ? logPath : undefined, options: ex?.options },
  });
}
