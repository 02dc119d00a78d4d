// The glue between the pipeline and CRIU's option table (src/criu/options.ts): which criu_opts a
// request carries, and what a checkpoint records for its restore to repeat.
import { CRIU_OPTIONS, restoreOptionsFromDump, toRpcOpts, type CriuDumpOptions, type CriuRestoreOptions } from '../criu/options.js';

export type { CriuDumpOptions, CriuRestoreOptions };

/** criu_opts for a DUMP, validated (the pipeline adds pid, log file, leave_* and the images dir). */
export function dumpRequestOptions(o: CriuDumpOptions, ownNetns: boolean): Record<string, unknown> {
  return toRpcOpts('dump', o, { needsLock: ownNetns });
}

/** criu_opts for a RESTORE, validated. */
export function restoreRequestOptions(o: CriuRestoreOptions): Record<string, unknown> {
  return toRpcOpts('restore', o, { needsLock: false });
}

const TABLE_NAMES = new Set(CRIU_OPTIONS.map((s) => s.name));

/** What a checkpoint records: every CRIU option given (`dump`), and those its restore must repeat (`restore`). */
export function recordedOptions(o: CriuDumpOptions): { dump: Record<string, unknown>; restore: Record<string, unknown> } {
  const dump: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!TABLE_NAMES.has(k) || v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    dump[k] = v;
  }
  return { dump, restore: restoreOptionsFromDump(o) };
}
