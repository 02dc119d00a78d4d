// `cryo check --pid PID`: the preflight of a live tree, as a verdict line and findings by process, or JSON.
import { ExitCode } from '../errors.js';
import { paint, printJson, useColor } from './output.js';
import { CRYO_INIT_LABEL } from './render/cmdline.js';
import { escapeText as esc, shellCommand } from './render/escape.js';
import type { PreflightIssue, PreflightReport } from '../preflight/types.js';

export interface PreflightActionOptions {
  json: boolean;
  /** the global --criu (unused by the walk itself; kept for the dump command line shown) */
  criu?: string;
}

/** Exit status 0 dumpable as it is, 5 dumpable with the options printed, 6 blocked (1: no such process). */
export async function preflightAction(pid: number, opts: PreflightActionOptions): Promise<void> {
  const { preflight } = await import('../preflight/preflight.js');
  const report = preflight(pid);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const warnings = root ? [] : ['not root: other users\' processes, their fds and sockets may be hidden'];
  if (opts.json) printJson(preflightJson(report, warnings));
  else process.stdout.write(renderPreflight(report, useColor(), warnings));
  process.exitCode = preflightExitCode(report);
}

/** 0 dumpable as it is, 5 with the options it prints, 6 blocked. */
export function preflightExitCode(r: PreflightReport): number {
  if (r.blockers.length) return ExitCode.BLOCKED;
  return r.options.length ? ExitCode.DUMPABLE_WITH_OPTIONS : ExitCode.OK;
}

/** `cryo check --pid --json`: the report under the naming table's names (`rootPid`, not `root`). */
export function preflightJson(r: PreflightReport, warnings: string[] = []): Record<string, unknown> {
  const { pid, rootPid, dumpable, options, blockers, findings, processes } = r;
  return { pid, rootPid, dumpable, options, blockers, findings, processes, ...(warnings.length ? { warnings } : {}) };
}

/** The dump command to paste: `cryo dump PID -D ./ckpt OPTIONS`. */
export function dumpCommand(r: PreflightReport): string {
  return shellCommand(['cryo', 'dump', String(r.pid), '-D', './ckpt', ...r.options]);
}

/** Text rendering: the verdict, the command to run, blockers, then findings grouped by process. */
export function renderPreflight(r: PreflightReport, color = false, warnings: string[] = []): string {
  const out: string[] = [];
  const n = r.processes.length;
  const via = r.rootPid !== r.pid ? `, through its namespace init ${r.rootPid}` : '';
  const tree = `tree ${r.pid} (${n} process${n === 1 ? '' : 'es'}${via})`;
  if (r.blockers.length) {
    out.push(`${paint('31', 'not dumpable:', color)} ${tree}: ${r.blockers.length} blocker${r.blockers.length === 1 ? '' : 's'} no option fixes`);
  } else if (r.options.length) {
    out.push(`${paint('33', 'dumpable with options:', color)} ${tree}`);
    out.push(`  ${dumpCommand(r)}`);
  } else {
    out.push(`${paint('32', 'dumpable:', color)} ${tree}, no extra options needed`);
  }
  for (const w of warnings) out.push(`${paint('33', 'warning:', color)} ${w}`);
  if (r.blockers.length) {
    out.push('', 'blockers:');
    for (const b of r.blockers) out.push(`  ${where(b)}: ${esc(b.message)}`);
    if (r.options.length) out.push(`also needed once they are gone: ${shellCommand(r.options)}`);
  }
  // blockers are findings too (JSON); the text shows each once, under blockers
  const shown = new Set(r.blockers.map(key));
  const byPid = new Map<number, PreflightIssue[]>();
  for (const f of r.findings) {
    if (shown.has(key(f))) continue;
    if (!byPid.has(f.pid)) byPid.set(f.pid, []);
    byPid.get(f.pid)!.push(f);
  }
  if (byPid.size) out.push('', 'findings:');
  for (const p of r.processes) {
    const fs = byPid.get(p.pid);
    if (!fs) continue;
    // a root other than the pid asked about is the namespace init `cryo run` started
    const name = p.pid === r.rootPid && r.rootPid !== r.pid ? CRYO_INIT_LABEL : esc(p.comm);
    out.push(`  ${p.pid} ${name}${p.pid === r.rootPid ? ' (root)' : ''}`);
    for (const f of fs) out.push(`    ${f.fd === undefined ? '' : `fd ${f.fd}: `}${esc(f.message)}`);
  }
  return out.join('\n') + '\n';
}

function key(i: PreflightIssue): string {
  return `${i.pid}/${i.fd ?? ''}/${i.kind}/${i.message}`;
}

function where(i: PreflightIssue): string {
  return `pid ${i.pid}${i.fd === undefined ? '' : ` fd ${i.fd}`}`;
}
