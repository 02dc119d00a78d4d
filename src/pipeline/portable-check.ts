// Will this checkpoint restore here? Every check `cryo check -i` reports, without restoring: CRIU,
// CPU (CRIU's own CPUINFO_CHECK against the cpuinfo.img the dump recorded), kernel, architecture,
// files (portable.ts), users and groups, listening ports, pids. `restore` runs the blocking ones first.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CryoError, isCryoError } from '../errors.js';
import type { CheckpointMeta } from '../checkpoint/meta.js';
import type { OpenedCheckpoint } from '../checkpoint/source.js';
import { readPstree, restoredPids } from '../checkpoint/pstree.js';
import { callCriu, type CriuSession } from '../criu/call.js';
import { findCriu, type CriuBinary } from '../criu/find.js';
import { firstErrors, logMessage } from '../criu/log.js';
import { checkCriu } from '../criu/rpc/one-shot.js';
import { readImage } from '../images/read-image.js';
import { readProcess } from '../kernel/process.js';
import { missingCpuFeatures } from './cpu-features.js';
import { checkFiles, filesRefused, placeFiles, type FileProblem, type PlacedFiles, type PortableRestoreOptions } from './portable.js';

type CheckArea = 'arch' | 'criu' | 'cpu' | 'kernel' | 'files' | 'users' | 'ports' | 'pids';

/** One thing in the way of the restore (a blocker) or worth knowing (a finding). */
interface TargetIssue {
  area: CheckArea;
  /** one line: what is wrong here */
  message: string;
  /** one line: how to fix it */
  fix: string;
  path?: string;
  port?: number;
  pid?: number;
}

export interface TargetReport {
  /** what was checked: the directory or archive path */
  input: string;
  /** a restore can work here */
  restorable: boolean;
  blockers: TargetIssue[];
  findings: TargetIssue[];
  criu: { dump: string | null; here: string | null };
  kernel: { dump: string | null; here: string };
  cpu: 'same' | 'compatible' | 'incompatible' | 'unknown';
  files: FileProblem[];
}

const TCP_LISTEN = 10;

function versionParts(v: string): number[] {
  return v.split('.').map((x) => Number.parseInt(x, 10) || 0);
}

function older(a: string, b: string): boolean {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/**
 * CRIU's CPUINFO_CHECK on the images' cpuinfo.img: undefined when it passes, else the reason from CRIU's
 * log. On `session` when given (kept open: restore sends its RESTORE next), else on a CRIU of its own.
 */
export async function checkCpuinfo(criu: CriuBinary, dir: string, session?: CriuSession): Promise<string | undefined> {
  const work = mkdtempSync(join(os.tmpdir(), 'cryo-cpuinfo-'));
  try {
    const req = { type: 'CPUINFO_CHECK' as const, opts: { log_file: 'cpuinfo-check.log', log_level: 4 } };
    if (session) await session.call(req, { imagesDir: dir, workDir: work, keepOpen: true });
    else await callCriu(criu, req, { imagesDir: dir, workDir: work });
    return undefined;
  } catch (e) {
    let log = '';
    try {
      log = readFileSync(join(work, 'cpuinfo-check.log'), 'utf8');
    } catch {
      // no log: the error's own words
    }
    const lines = firstErrors(log, 3).map(logMessage);
    return lines.length ? lines.join('; ') : isCryoError(e) ? e.message : String(e);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Listening TCP ports of the images (files.img's inet sockets in LISTEN). */
function listeningPorts(dir: string): number[] {
  const path = join(dir, 'files.img');
  if (!existsSync(path)) return [];
  const ports = new Set<number>();
  for (const e of readImage(path).entries as Array<Record<string, unknown>>) {
    const isk = e.isk as Record<string, unknown> | undefined;
    if (!isk) continue;
    const state = isk.state;
    const proto = isk.proto;
    if ((state === TCP_LISTEN || state === 'LISTEN') && (proto === 6 || proto === 'TCP')) ports.add(Number(isk.src_port));
  }
  return [...ports].sort((a, b) => a - b);
}

/** TCP ports something listens on here (this network namespace). */
function takenPorts(): Set<number> {
  const out = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue;
      out.add(Number.parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return out;
}

/** Names of the ids in /etc/passwd or /etc/group. */
function knownIds(file: string): Set<number> {
  const out = new Set<number>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const id = Number(line.split(':')[2]);
      if (line && Number.isSafeInteger(id)) out.add(id);
    }
  } catch {
    // no such database: every id is unknown
  }
  return out;
}

/** uids and gids of the dumped threads (core-*.img creds). */
function treeIds(dir: string): { uids: Set<number>; gids: Set<number> } {
  const uids = new Set<number>();
  const gids = new Set<number>();
  for (const name of readdirSync(dir).filter((n) => /^core-\d+\.img$/.test(n))) {
    const entry = readImage(join(dir, name)).entries[0] as Record<string, unknown> | undefined;
    const creds = (entry?.thread_core as Record<string, unknown> | undefined)?.creds as Record<string, unknown> | undefined;
    if (!creds) continue;
    for (const k of ['uid', 'euid', 'suid', 'fsuid']) if (creds[k] !== undefined) uids.add(Number(creds[k]));
    for (const k of ['gid', 'egid', 'sgid', 'fsgid']) if (creds[k] !== undefined) gids.add(Number(creds[k]));
  }
  return { uids, gids };
}

export interface TargetCheckOptions extends PortableRestoreOptions {
  criu?: string;
  /** restore's own pre-check: skips what restore checks itself (pids) or what only informs */
  forRestore?: boolean;
  /** CRIU's CPU check already under way (restore starts it early, on the CRIU that restores) */
  cpuCheck?: Promise<string | undefined>;
}

/** Checks, without restoring, whether the opened checkpoint can be restored on this machine. */
export async function checkTarget(opened: OpenedCheckpoint, opts: TargetCheckOptions = {}): Promise<TargetReport> {
  const meta: CheckpointMeta | undefined = opened.meta;
  const blockers: TargetIssue[] = [];
  const findings: TargetIssue[] = [];
  const report: TargetReport = {
    input: opened.path, restorable: false, blockers, findings,
    criu: { dump: meta?.criu.version ?? null, here: null },
    kernel: { dump: meta?.host.kernel ?? null, here: os.release() },
    cpu: 'unknown', files: [],
  };
  if (meta && meta.host.arch !== os.arch()) {
    blockers.push({ area: 'arch', message: `the checkpoint was made on ${meta.host.arch}, this machine is ${os.arch()}`, fix: `restore it on a ${meta.host.arch} machine` });
  }

  let criu: CriuBinary | undefined;
  try {
    criu = findCriu({ criu: opts.criu });
    report.criu.here = criu.version;
  } catch (e) {
    blockers.push({ area: 'criu', message: isCryoError(e) ? e.message : 'no working CRIU here', fix: (isCryoError(e) && e.hint) || 'run `cryo setup`' });
  }
  if (criu && !opts.forRestore) {
    const c = await checkCriu(criu);
    if (!c.ok) blockers.push({ area: 'criu', message: `criu check fails here: ${c.error?.message ?? 'unknown reason'}`, fix: c.error?.hint ?? 'run `cryo check` for details' });
    if (meta && older(criu.version, meta.criu.version)) {
      blockers.push({ area: 'criu', message: `CRIU here is ${criu.version}, older than the ${meta.criu.version} that wrote the images`, fix: `install CRIU ${meta.criu.version} or newer (cryo setup)` });
    } else if (meta && criu.version !== meta.criu.version) {
      findings.push({ area: 'criu', message: `CRIU here is ${criu.version}, the images were written by ${meta.criu.version}`, fix: 'none needed: newer CRIU reads older images' });
    }
  }

  // features the images need of the kernel beyond `criu check`: a time namespace
  if (readdirSync(opened.dir).some((n) => /^timens-\d+\.img$/.test(n)) && !existsSync('/proc/self/ns/time')) {
    blockers.push({ area: 'kernel', message: 'the images hold a time namespace and this kernel has none (CONFIG_TIME_NS)', fix: 'restore on a kernel with time namespaces (5.6 or newer, CONFIG_TIME_NS=y)' });
  }
  // CRIU's cpuinfo check runs in its own process while the files are compared here (same results, same order)
  const cpuCheck = opts.cpuCheck ?? (criu && existsSync(join(opened.dir, 'cpuinfo.img')) ? checkCpuinfo(criu, opened.dir) : undefined);
  cpuCheck?.catch(() => {}); // awaited below: no unhandled rejection when checkFiles throws first
  let files: FileProblem[];
  try {
    files = checkFiles(opened.dir, meta, opts);
  } catch (e) {
    await cpuCheck?.catch(() => {});
    throw e;
  }
  if (criu && cpuCheck) {
    const why = await cpuCheck;
    if (why) {
      report.cpu = 'incompatible';
      const named = await missingCpuFeatures(criu, opened.dir);
      const missing = named.length ? named : meta?.host.cpuFlags ? missingFlags(meta.host.cpuFlags) : [];
      blockers.push({
        area: 'cpu',
        message: `this CPU lacks ${missing.length ? missing.slice(0, 12).join(' ') : 'features'} that the checkpoint's CPU had (CRIU's cpuinfo check: ${why})`,
        fix: 'restore on a machine with the same CPU features, or dump with --cpu-cap none (the tree may then crash on a missing instruction)',
      });
    } else report.cpu = meta && meta.host.cpu === os.cpus()[0]?.model ? 'same' : 'compatible';
  } else if (!opts.forRestore) {
    findings.push({ area: 'cpu', message: 'the checkpoint has no cpuinfo.img: the CPU cannot be compared', fix: 'dump with a cryo that records it' });
  }

  if (meta && meta.host.kernel !== os.release() && !opts.forRestore) {
    findings.push({ area: 'kernel', message: `the kernel here is ${os.release()}, the dump's was ${meta.host.kernel}`, fix: 'none needed unless CRIU reports a missing feature' });
  }

  report.files = files;
  for (const f of report.files) {
    (f.blocker ? blockers : findings).push({ area: 'files', message: `${f.path} ${f.why}`, fix: f.fix, path: f.path });
  }

  if (!opts.forRestore) {
    const { uids, gids } = treeIds(opened.dir);
    const users = knownIds('/etc/passwd');
    const groups = knownIds('/etc/group');
    for (const u of [...uids].sort((a, b) => a - b)) if (!users.has(u)) findings.push({ area: 'users', message: `uid ${u} of the tree has no user here`, fix: `create a user with uid ${u} if the tree looks its name up` });
    for (const g of [...gids].sort((a, b) => a - b)) if (!groups.has(g)) findings.push({ area: 'users', message: `gid ${g} of the tree has no group here`, fix: `create a group with gid ${g} if the tree looks its name up` });
  }

  if (!meta?.tree.netns) {
    const taken = takenPorts();
    for (const p of listeningPorts(opened.dir)) {
      if (taken.has(p)) blockers.push({ area: 'ports', message: `TCP port ${p}, on which the tree listens, is taken here`, fix: `stop what listens on port ${p} (ss -ltnp)`, port: p });
    }
  }

  if (!opts.forRestore && !meta?.tree.pidns) {
    const tree = readPstree(opened.dir);
    if (tree[0]?.pid !== 1) {
      for (const pid of restoredPids(tree, new Set())) {
        const p = readProcess(pid);
        if (p && p.state !== 'Z' && p.state !== 'X') blockers.push({ area: 'pids', message: `pid ${pid}, which the tree needs, is taken here by ${p.comm}`, fix: 'end that process, or start trees with `cryo run` (their own PID namespace)', pid });
      }
    }
  }
  report.restorable = blockers.length === 0;
  return report;
}

function missingFlags(flags: string[]): string[] {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    const here = new Set(m ? m[1]!.trim().split(/\s+/) : []);
    return flags.filter((f) => !here.has(f));
  } catch {
    return [];
  }
}

/**
 * restore's pre-check, before CRIU runs: throws RESTORE_FAILED naming every blocker (one entry per
 * file in details.files), else puts the carried files back.
 */
export async function prepareTarget(opened: OpenedCheckpoint, opts: TargetCheckOptions): Promise<PlacedFiles> {
  const r = await checkTarget(opened, { ...opts, forRestore: true });
  if (!r.restorable) {
    const fileBlockers = r.files.filter((f) => f.blocker);
    if (fileBlockers.length === r.blockers.length) throw filesRefused(r.files);
    const first = r.blockers.find((b) => b.area !== 'files')!;
    throw new CryoError('RESTORE_FAILED', `refused before CRIU ran: ${r.blockers.map((b) => b.message).join('; ')}`, {
      hint: `${first.fix}; \`cryo check -i\` lists every blocker`,
      details: { blockers: r.blockers },
    });
  }
  const placed = placeFiles(opened.dir, opened.meta, opts, r.files);
  opts.onFilesPlaced?.(placed);
  return placed;
}
