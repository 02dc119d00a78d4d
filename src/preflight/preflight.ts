// Predicts, from the live tree alone, whether a CRIU 4.2 dump succeeds and which options it needs.
// Each rule (rules-*.ts) was held against a real CRIU 4.2.1 dump on this project's kernel (see
// test/integration/preflight-*.test.ts); rules marked "finding" only inform. This file runs them in
// one order (tree, then each process: itself, its maps, its fds) and assembles the report.
import { createIssues, type RuleContext } from './issues.js';
import { checkSharedFiles, createFileRules } from './rules-files.js';
import { checkNestedNamespaces, checkSysvMap, checkSysvObjects, checkTreeNamespaces, createMountRule, isSysvMap } from './rules-namespaces.js';
import { checkProcess, checkRoot, checkSharedProcesses } from './rules-process.js';
import { createSocketRule } from './rules-sockets.js';
import { snapshotTree } from './snapshot.js';
import { DEFAULT_GHOST_LIMIT, type PreflightOptions, type PreflightProcess, type PreflightReport } from './types.js';

/**
 * Walks the live tree rooted at `pid` and predicts the outcome of `cryo dump PID`:
 * `dumpable` with no extra options, the `options` that fix it, and the `blockers` that no option fixes.
 */
export function preflight(pid: number, opts: PreflightOptions = {}): PreflightReport {
  const tree = snapshotTree(pid);
  const issues = createIssues();
  const ctx: RuleContext = { tree, issues, ghostLimit: opts.ghostLimit ?? DEFAULT_GHOST_LIMIT };

  checkRoot(ctx);
  checkTreeNamespaces(ctx);
  const checkMount = createMountRule(ctx);
  const checkSocket = createSocketRule(ctx);
  const files = createFileRules(ctx);
  for (const p of tree.procs) {
    checkProcess(ctx, p);
    checkNestedNamespaces(ctx, p);
    for (const m of p.maps) {
      if (isSysvMap(m)) checkSysvMap(ctx, p, m);
      else files.checkMap(p, m);
    }
    for (const f of p.fds) {
      checkMount(p, f);
      if (files.checkIoUring(p, f)) continue;
      files.checkLocks(p, f);
      if (!checkSocket(p, f)) files.checkFd(p, f);
    }
  }
  files.finish();
  checkSysvObjects(ctx);
  const sharing = checkSharedProcesses(ctx);
  checkSharedFiles(ctx);

  const processes: PreflightProcess[] = tree.procs.map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    comm: p.comm,
    state: p.state,
    threads: p.threads,
    pgid: p.pgid,
    sid: p.sid,
    tracerPid: p.tracerPid,
    fds: p.fds.length,
    ...sharing.get(p.pid),
  }));
  return {
    pid,
    rootPid: tree.rootPid,
    dumpable: issues.blockers.length === 0 && issues.options.length === 0,
    options: issues.options,
    blockers: issues.blockers,
    findings: issues.findings,
    processes,
  };
}
