// Builds real CRIU images of a diverse process tree for the codec's differential tests:
// compiles test/fixtures/images/tree.c, starts it detached in its own session and IPC namespace,
// dumps it with criu (TCP established, nftables lock, file locks), restores it for stats-restore, ends it by pid.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../src/images/index.js';

export const fixtureSource = new URL('../../../test/fixtures/images/tree.c', import.meta.url).pathname;

export interface DumpedTree {
  /** temp dir holding everything; remove it when done */
  base: string;
  /** the images */
  dir: string;
  /** whether the restore (and so stats-restore) worked */
  restored: boolean;
  /** whether the tree ran in its own network namespace (NETDEV, NETNS, raw ifaddr/route images) */
  netns: boolean;
  /** pids still to end (restored tree), by pid */
  pids: number[];
  log: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function killPids(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Compile, start, dump and restore the fixture tree. Throws with the CRIU log tail on failure. */
export async function dumpDiverseTree(criu: string): Promise<DumpedTree> {
  const base = mkdtempSync(join(tmpdir(), 'cryo-codec-'));
  const work = join(base, 'work');
  const dir = join(base, 'images');
  mkdirSync(work);
  mkdirSync(dir);
  const bin = join(base, 'tree');
  const cc = spawnSync('gcc', ['-O1', '-o', bin, fixtureSource, '-lpthread', '-lrt'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  const outPath = join(base, 'out');
  const out = openSync(outPath, 'w');
  // detached: its own session; unshare execs the program in fresh IPC (and, with `ip` to bring up
  // loopback, network and UTS) namespaces, so SysV IPC and network images are in the dump too
  const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p));
  const args = ip
    ? ['--ipc', '--net', '--uts', '/bin/sh', '-c', `${ip} link set lo up && exec "$0" "$@"`, bin, work]
    : ['--ipc', bin, work];
  const child = spawn('unshare', args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const pid = child.pid!;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const started: number[] = [pid];
  try {
    const deadline = Date.now() + 10_000;
    while (!readFileSync(outPath, 'utf8').includes('ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`tree did not start: ${readFileSync(outPath, 'utf8')}`);
      await sleep(20);
    }
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    started.push(...kids);
    const net = ['--tcp-established', '--network-lock', 'nftables', '--file-locks'];
    const d = spawnSync(criu, ['dump', '-t', String(pid), '-D', dir, '--shell-job', ...net, '-o', 'dump.log'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (d.status !== 0) throw new Error(`criu dump failed: ${tail(join(dir, 'dump.log'))}`);
    // our child: node reaps it, so its pid is free again for the restore
    await Promise.race([exited, sleep(5000)]);
    for (const k of kids) {
      const until = Date.now() + 5000;
      while (existsSync(`/proc/${k}`) && Date.now() < until) await sleep(20);
    }
    const pidfile = join(base, 'restored.pid');
    const r = spawnSync(criu, ['restore', '-D', dir, '-d', '--shell-job', ...net, '-o', 'restore.log', '--pidfile', pidfile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const restored = r.status === 0;
    const pids: number[] = [];
    if (restored) {
      const pstree = readImage(join(dir, 'pstree.img'));
      for (const e of pstree.entries) pids.push(e.pid as number);
    }
    return { base, dir, restored, netns: ip !== undefined, pids, log: restored ? '' : tail(join(dir, 'restore.log')) };
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  } finally {
    killPids(started.filter(alive));
  }
}

export function endTree(t: DumpedTree): void {
  killPids(t.pids.filter(alive));
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter((l) => /Error|rror/.test(l) && !/RLIMIT_NOFILE/.test(l)).slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}
