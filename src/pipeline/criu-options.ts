// The glue between the pipeline and CRIU's option table: which criu_opts a request carries, and
// which options a checkpoint records for its restore to repeat.
import { commonCriuOpts, type CommonCriuOptions } from '../criu/options.js';
import { CryoError } from '../errors.js';

export interface CriuDumpOptions extends CommonCriuOptions {
  /** --leave-running: the tree keeps running after the dump; default false (the tree ends) */
  leaveRunning?: boolean;
  /** --link-remap: allow dumping open files that were unlinked; default false */
  linkRemap?: boolean;
  /** --ghost-limit: largest deleted file kept in the images, bytes; default CRIU's 1 MiB */
  ghostLimit?: number;
}

export type CriuRestoreOptions = CommonCriuOptions & {
  /** --inherit-fd fd[N]:RES pairs: give the restored tree this process's fd N in place of RES */
  inheritFd?: Array<{ key: string; fd: number }>;
};

const REPEAT = ['tcpEstablished', 'extUnixSk', 'shellJob', 'fileLocks', 'external', 'manageCgroups'] as const;
const RECORD = [...REPEAT, 'leaveRunning', 'linkRemap', 'ghostLimit', 'networkLock'] as const;

/** criu_opts for a DUMP (without pid, log file and what the pipeline itself decides). */
export function dumpRequestOptions(o: CriuDumpOptions, ownNetns: boolean): Record<string, unknown> {
  if (o.ghostLimit !== undefined && (!Number.isInteger(o.ghostLimit) || o.ghostLimit < 0 || o.ghostLimit > 0xffffffff)) {
    throw new CryoError('USAGE', `expected ghostLimit as a byte count from 0 to 4294967295, got ${o.ghostLimit}`, { hint: 'e.g. --ghost-limit 4M' });
  }
  const out = commonCriuOpts(o, 'dump.log', Boolean(o.tcpEstablished) || ownNetns);
  delete out.log_file;
  if (o.linkRemap) out.link_remap = true;
  if (o.ghostLimit !== undefined) out.ghost_limit = o.ghostLimit;
  return out;
}

/** criu_opts for a RESTORE. `needsLock`: the tree's network gets locked (TCP, or its own netns). */
export function restoreRequestOptions(o: CriuRestoreOptions, needsLock: boolean): Record<string, unknown> {
  const out = commonCriuOpts(o, 'restore.log', needsLock);
  delete out.log_file;
  if (o.inheritFd?.length) out.inherit_fd = o.inheritFd;
  return out;
}

/** What a checkpoint records: every option given (`dump`), and those its restore must repeat (`restore`). */
export function recordedOptions(o: CriuDumpOptions): { dump: Record<string, unknown>; restore: Record<string, unknown> } {
  const pick = (keys: readonly string[]) => {
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = (o as Record<string, unknown>)[k];
      if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)) out[k] = v;
    }
    return out;
  };
  return { dump: pick(RECORD), restore: pick(REPEAT) };
}
