// One-shot calls, each on a fresh CRIU (spawned, answered, reaped): any request, VERSION, CHECK, FEATURE_CHECK.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryoError } from '../../errors.js';
import { openCriu, type CriuConnection, type CriuPath, type RequestOptions } from './connection.js';
import { prepareRequest, type CriuCallOptions } from './directories.js';
import { criuFailure } from './failure.js';
import type { CriuFeatures, CriuRequest, CriuResponse, CriuVersionInfo } from './types.js';

/** One request on a fresh CRIU (spawned, answered, reaped). */
export async function criuCall(criu: CriuPath, req: CriuRequest, o: CriuCallOptions = {}): Promise<CriuResponse> {
  const p = prepareRequest(req, o);
  let conn: CriuConnection | undefined;
  try {
    conn = openCriu(criu, { ...o, passFds: p.req.opts?.inherit_fd?.map((i) => i.fd) });
    return await conn.request(p.req, { ...o, logPath: p.logPath });
  } finally {
    p.cleanup();
    await conn?.close();
  }
}

/** CRIU's version over RPC: {version: "4.2.1", major_number: 4, minor_number: 2, sublevel: 1, ...}. */
export async function getCriuVersion(criu: CriuPath, o: RequestOptions = {}): Promise<CriuVersionInfo & { version: string }> {
  const resp = await criuCall(criu, { type: 'VERSION' }, o);
  const v = resp.version;
  if (!v) throw new CryoError('RPC', 'criu answered VERSION without a version');
  const version = [v.major_number, v.minor_number, v.sublevel].filter((x) => x !== undefined).join('.');
  return { ...v, version };
}

export interface CriuCheckResult {
  ok: boolean;
  /** why not, when ok is false (details carry crErrno, logPath, logErrors) */
  error?: CryoError;
}

/**
 * CRIU's own `check` over RPC. CRIU wants a directory for the request's log: `logDir` (kept), or a
 * temporary one that is removed when the check passes and kept (named in error.details.logPath) when it fails.
 */
export async function checkCriu(criu: CriuPath, o: RequestOptions & { logDir?: string } = {}): Promise<CriuCheckResult> {
  const dir = o.logDir ?? mkdtempSync(join(tmpdir(), 'cryo-check-'));
  let keep = o.logDir !== undefined;
  try {
    const resp = await criuCall(criu, { type: 'CHECK', opts: { log_level: 4 } }, { ...o, imagesDir: dir, allowFailure: true });
    if (resp.success) return { ok: true };
    keep = true;
    return { ok: false, error: criuFailure(resp, { code: 'ENVIRONMENT', what: 'criu check', logPath: join(dir, 'check.log') }) };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Asks CRIU which of the named features work here; absent answers are false. */
export async function checkCriuFeatures(
  criu: CriuPath,
  want: { memTrack?: boolean; lazyPages?: boolean; pidfdStore?: boolean } = { memTrack: true, lazyPages: true, pidfdStore: true },
  o: RequestOptions = {},
): Promise<Required<CriuFeatures>> {
  const features: CriuFeatures = {};
  if (want.memTrack) features.mem_track = true;
  if (want.lazyPages) features.lazy_pages = true;
  if (want.pidfdStore) features.pidfd_store = true;
  const resp = await criuCall(criu, { type: 'FEATURE_CHECK', features }, o);
  const f = resp.features ?? {};
  return { mem_track: f.mem_track === true, lazy_pages: f.lazy_pages === true, pidfd_store: f.pidfd_store === true };
}
