// One CRIU request for dump/restore over the RPC client, and CRIU failures turned into plain words.
import { existsSync, readFileSync } from 'node:fs';
import { CryoError, isCryoError } from '../errors.js';
import { isKernelThread, readStatus } from '../kernel/proc.js';
import { explainFailure, type TaskFacts } from './explain.js';
import type { CriuBinary } from './find.js';
import { firstErrors, logMessage, parseCriuLog } from './log.js';
import type { CriuHooks, CriuRequest, CriuResponse } from './rpc/types.js';

export type CriuCallHooks = CriuHooks;

/** Where one request's images, log and stats go, its hooks and its abort signal. */
export interface CriuCallOptions {
  imagesDir: string;
  workDir?: string;
  hooks?: CriuHooks;
  signal?: AbortSignal;
}

/**
 * One `criu swrk` for the requests of one command, in order: CRIU's service loop takes another request
 * after a CPUINFO_DUMP, CPUINFO_CHECK, FEATURE_CHECK or VERSION sent with keep_open, and each request
 * is set up from its own options (CRIU applies a CPUINFO request's options in a child it forks).
 */
export interface CriuSession {
  /** CRIU's pid, for whoever must wait for it or kill it */
  readonly pid: number;
  /** One request; `keepOpen` keeps CRIU's loop going for the next one. Throws unless CRIU answers success. */
  call(req: CriuRequest, opts: CriuCallOptions & { keepOpen?: boolean }): Promise<CriuResponse>;
  /** Closes our end (CRIU waiting for a request exits) and reaps CRIU. */
  close(): Promise<void>;
}

/** Starts one `criu swrk`; `passFds` are the fds of ours CRIU gets at the same numbers (restore's inherit_fd). */
export async function openCriuSession(criu: CriuBinary, opts: { passFds?: number[] } = {}): Promise<CriuSession> {
  const [{ openCriu }, { prepareRequest }] = await Promise.all([import('./rpc/connection.js'), import('./rpc/directories.js')]);
  const conn = openCriu(criu, { passFds: opts.passFds });
  return {
    pid: conn.pid,
    async call(req, o) {
      const p = prepareRequest(o.keepOpen ? { ...req, keep_open: true } : req, { imagesDir: o.imagesDir, logDir: o.workDir });
      try {
        return await conn.request(p.req, { hooks: o.hooks, signal: o.signal, errorCode: 'RPC', logPath: p.logPath });
      } finally {
        p.cleanup();
      }
    },
    async close() {
      await conn.close();
    },
  };
}

/** Sends one request to a fresh `criu swrk` and returns CRIU's successful answer (throws otherwise). */
export async function callCriu(criu: CriuBinary, req: CriuRequest, opts: CriuCallOptions): Promise<CriuResponse> {
  const session = await openCriuSession(criu, { passFds: req.opts?.inherit_fd?.map((i) => i.fd) });
  try {
    return await session.call(req, opts);
  } finally {
    await session.close();
  }
}

/** CRIU log lines that mean an image file is short, foreign or missing. */
const BAD_IMAGE_LINE = /Read \d+ bytes while \d+ expected|magic doesn't match|Unexpected EOF|No \S+\.img image|Can't open image|Unable to open .*\.img|Can't open pages\S*|Unable to open pages|\S+\.img: No such file or directory|corrupted/i;

/** What the live system says about a task CRIU could not attach to. */
function describeTask(pid: number): TaskFacts | undefined {
  const status = readStatus(pid);
  if (!status) return undefined;
  const nspid = (status.NSpid ?? String(pid)).trim().split(/\s+/);
  return { kernelThread: isKernelThread(pid), tracerPid: Number(status.TracerPid ?? 0), init: nspid.length === 1 && pid === 1 };
}

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
  // the log may be gone (a full disk refused to keep it): the error lines read before are in the details
  if (!log && Array.isArray(d.logErrors)) log = d.logErrors.filter((l): l is string => typeof l === 'string').join('\n');
  const ex = explainFailure({ action, log, crErrno, crErrmsg, describeTask });
  const first = firstErrors(log, 1)[0];
  const cause = ex?.cause ?? (first ? `CRIU: ${logMessage(first)}` : (e as Error)?.message ?? String(e));
  const running = details.running;
  const tail = action === 'dump' && running === true ? ' (the tree still runs)' : action === 'dump' && running === false ? ' (the tree is gone)' : '';
  const haveLog = existsSync(logPath);
  const hint = [ex?.fix, haveLog ? `log: ${logPath}` : undefined].filter(Boolean).join('; ') || 'run again with --debug for CRIU details';
  // CRIU could not read the images: the checkpoint is damaged (exit 4), not the environment
  const badImage = action === 'restore' && parseCriuLog(log).errors.concat(crErrmsg ?? []).slice(0, 3).some((l) => BAD_IMAGE_LINE.test(l));
  return new CryoError(badImage ? 'BAD_IMAGE' : action === 'dump' ? 'DUMP_FAILED' : 'RESTORE_FAILED', `${action} failed: ${cause}${tail}`, {
    hint: badImage ? `the checkpoint is damaged; dump again${haveLog ? `; log: ${logPath}` : ''}` : hint,
    cause: e,
    details: { ...d, ...details, logPath: haveLog ? logPath : undefined, options: ex?.options },
  });
}
