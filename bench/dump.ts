// What `cryo dump` + `cryo restore` add over bare `criu dump` + `criu restore` (same criu binary,
// same options, same tree), both measured in one run, alternating. Small tree: a shell pipe loop.
// Large tree: a process holding 1 GiB of touched memory. Prints medians, deltas and ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { detectNetworkLock } from '../src/criu/options.js';
import { run, childPids } from '../src/criu/run.js';

const cliPath = new URL('../src/cli/main.js', import.meta.url).pathname;
const criu = findCriu();
const lock = detectNetworkLock();

function timed(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0 || r.error) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr} ${r.error ?? ''}`);
  return { ms, stdout: r.stdout };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Sample {
  dump: number;
  restore: number;
}

/** One bare-criu dump+restore of a fresh tree; kills the restored tree. */
async function bareCycle(start: () => Promise<number>, work: string): Promise<Sample> {
  const init = await start();
  const dir = mkdtempSync(join(work, 'bare-'));
  const d = timed(criu.path, ['dump', '-t', String(init), '-D', dir, '-o', 'dump.log', '-v4', '--network-lock', lock]);
  const pidfile = join(dir, 'restored.pid');
  const r = timed(criu.path, ['restore', '-D', dir, '-d', '-o', 'restore.log', '-v4', '--network-lock', lock, '--pidfile', pidfile]);
  kill(Number(readFileSync(pidfile, 'utf8')));
  rmSync(dir, { recursive: true, force: true });
  return { dump: d.ms, restore: r.ms };
}

/** One `cryo dump` + `cryo restore` (the built CLI, a new node process each) of a fresh tree. */
async function cryoCycle(start: () => Promise<number>, work: string): Promise<Sample> {
  const init = await start();
  const pid = childPids(init)[0];
  const dir = join(mkdtempSync(join(work, 'cryo-')), 'ckpt');
  const d = timed(process.execPath, [cliPath, 'dump', String(pid), '-D', dir]);
  const r = timed(process.execPath, [cliPath, 'restore', '-D', dir, '--json']);
  kill(JSON.parse(r.stdout).rootPid);
  rmSync(join(dir, '..'), { recursive: true, force: true });
  return { dump: d.ms, restore: r.ms };
}

async function compare(name: string, start: () => Promise<number>, rounds: number, work: string): Promise<void> {
  const bare: Sample[] = [];
  const ours: Sample[] = [];
  await bareCycle(start, work); // warm the page cache and CRIU's files
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareCycle(start, work));
    ours.push(await cryoCycle(start, work));
  }
  const b = { dump: median(bare.map((s) => s.dump)), restore: median(bare.map((s) => s.restore)), total: median(bare.map((s) => s.dump + s.restore)) };
  const o = { dump: median(ours.map((s) => s.dump)), restore: median(ours.map((s) => s.restore)), total: median(ours.map((s) => s.dump + s.restore)) };
  console.log(`\n${name} (${rounds} rounds, medians)`);
  for (const k of ['dump', 'restore', 'total'] as const) {
    const delta = o[k] - b[k];
    console.log(`  ${k.padEnd(8)} bare criu ${b[k].toFixed(1).padStart(8)} ms   cryo ${o[k].toFixed(1).padStart(8)} ms   +${delta.toFixed(1)} ms   x${(o[k] / b[k]).toFixed(3)} (${((delta / b[k]) * 100).toFixed(1)}%)`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'cryo-bench-'));
const started: number[] = [];
try {
  // run() starts the tree in cryo's PID namespace; both sides dump its init (the same tree)
  const small = async () => {
    const r = await run('sh', ['-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done | while read -r l; do :; done']);
    started.push(r.initPid!);
    return r.initPid!;
  };
  const large = async () => {
    const r = await run(process.execPath, ['-e', 'const b = Buffer.alloc(1 << 30, 7); setInterval(() => b[0]++, 100)']);
    started.push(r.initPid!);
    // wait until the GiB is touched (RSS above 1 GiB)
    for (;;) {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${r.pid}/status`, 'utf8'))?.[1] ?? 0);
      if (rss > 1024 * 1024) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    return r.initPid!;
  };
  console.log(`criu ${criu.version} at ${criu.path}; network lock ${lock}`);
  await compare('small tree (sh | sh pipe loop)', small, 9, work);
  await compare('large tree (node holding 1 GiB)', large, 3, work);
  console.log('\ngoal: at most +100 ms on the small tree, at most +5% on the large one');
} finally {
  for (const p of started) kill(p);
  rmSync(work, { recursive: true, force: true });
}
