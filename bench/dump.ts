// What `cryo dump` + `cryo restore` add over bare `criu dump` + `criu restore` (same criu binary,
// same options, same tree), both measured in one run, alternating. Small tree: a shell pipe loop.
// Large tree: a process holding 1 GiB of touched memory. Prints medians, deltas and ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { detectNetworkLock } from '../src/criu/options.js';
import { run, childPids } from '../src/kernel/run.js';
import { dump } from '../src/pipeline/dump.js';
import { restore } from '../src/pipeline/restore.js';
import { benchMarker, killMarked, loopScript } from './holders.js';

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

/** Median wall time of `node -e 0`: the floor of any Node CLI. */
function nodeStartup(): number {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) xs.push(timed(process.execPath, ['-e', '0']).ms);
  return median(xs);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Sample {
  dump: number;
  restore: number;
  /** the CLI's own --json timings: where a command's time goes inside cryo */
  parts?: Record<string, number>;
}

/** One bare-criu dump+restore of a fresh tree; kills the restored tree. */
async function bareCycle(start: () => Promise<number>, work: string): Promise<Sample> {
  const init = await start();
  const dir = mkdtempSync(join(work, 'bare-'));
  // what cryo passes for these trees: log level 4, a log file, CRIU's default network lock (no TCP, no netns)
  const d = timed(criu.path, ['dump', '-t', String(init), '-D', dir, '-o', 'dump.log', '-v4']);
  const pidfile = join(dir, 'restored.pid');
  const r = timed(criu.path, ['restore', '-D', dir, '-d', '-o', 'restore.log', '-v4', '--pidfile', pidfile]);
  kill(Number(readFileSync(pidfile, 'utf8')));
  rmSync(dir, { recursive: true, force: true });
  return { dump: d.ms, restore: r.ms };
}

/** One `cryo dump` + `cryo restore` (the built CLI, a new node process each) of a fresh tree. */
async function cryoCycle(start: () => Promise<number>, work: string): Promise<Sample> {
  const init = await start();
  const pid = childPids(init)[0];
  const dir = join(mkdtempSync(join(work, 'cryo-')), 'ckpt');
  const d = timed(process.execPath, [cliPath, 'dump', String(pid), '-D', dir, '--json']);
  const r = timed(process.execPath, [cliPath, 'restore', '-D', dir, '--json']);
  const dj = JSON.parse(d.stdout) as Record<string, number>;
  const rj = JSON.parse(r.stdout) as Record<string, number>;
  kill(rj.rootPid!);
  rmSync(join(dir, '..'), { recursive: true, force: true });
  const parts = {
    'dump wallMs': dj.wallMs!, 'dump criuMs': dj.criuMs!, 'dump commitMs': dj.commitMs!, 'dump outside wallMs (start, modules, exit)': d.ms - dj.wallMs!,
    'restore wallMs': rj.wallMs!, 'restore prepareMs': rj.prepareMs!, 'restore criuMs': rj.criuMs!, 'restore outside wallMs (start, modules, exit)': r.ms - rj.wallMs!,
  };
  return { dump: d.ms, restore: r.ms, parts };
}

/** One library dump() + restore() in this process (modules already loaded: what a Node script pays). */
async function libCycle(start: () => Promise<number>, work: string): Promise<Sample> {
  const init = await start();
  const pid = childPids(init)[0];
  const dir = join(mkdtempSync(join(work, 'lib-')), 'ckpt');
  let t0 = performance.now();
  await dump(pid, dir);
  const d = performance.now() - t0;
  t0 = performance.now();
  const r = await restore(dir);
  const rs = performance.now() - t0;
  kill(r.rootPid);
  rmSync(join(dir, '..'), { recursive: true, force: true });
  return { dump: d, restore: rs };
}

async function compare(name: string, start: () => Promise<number>, rounds: number, work: string): Promise<void> {
  const bare: Sample[] = [];
  const cli: Sample[] = [];
  const lib: Sample[] = [];
  await bareCycle(start, work); // warm the page cache and CRIU's files
  await libCycle(start, work); // load the library's modules once
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareCycle(start, work));
    cli.push(await cryoCycle(start, work));
    lib.push(await libCycle(start, work));
  }
  const med = (xs: Sample[]) => ({ dump: median(xs.map((s) => s.dump)), restore: median(xs.map((s) => s.restore)), total: median(xs.map((s) => s.dump + s.restore)) });
  const min = (xs: Sample[]) => ({ dump: Math.min(...xs.map((s) => s.dump)), restore: Math.min(...xs.map((s) => s.restore)), total: Math.min(...xs.map((s) => s.dump + s.restore)) });
  const b = med(bare);
  const bm = min(bare);
  console.log(`\n${name} (${rounds} rounds, medians; bare = criu CLI, same binary and options)`);
  const cm = min(cli).total;
  const lm = min(lib).total;
  console.log(`  fastest dump+restore: bare ${bm.total.toFixed(1)} ms, cryo CLI ${cm.toFixed(1)} ms (+${(cm - bm.total).toFixed(1)}), library ${lm.toFixed(1)} ms (${lm >= bm.total ? '+' : ''}${(lm - bm.total).toFixed(1)})`);
  const parts = cli[0]?.parts ? Object.keys(cli[0].parts) : [];
  if (parts.length) console.log(`  cryo CLI, medians of its --json timings: ${parts.map((k) => `${k} ${median(cli.map((s) => s.parts![k]!)).toFixed(1)}`).join(', ')}`);
  for (const [label, o] of [['cryo CLI', med(cli)], ['library', med(lib)]] as const) {
    for (const k of ['dump', 'restore', 'total'] as const) {
      const delta = o[k] - b[k];
      console.log(
        `  ${label.padEnd(9)}${k.padEnd(8)} bare ${b[k].toFixed(1).padStart(8)} ms  cryo ${o[k].toFixed(1).padStart(8)} ms  ${delta >= 0 ? '+' : ''}${delta.toFixed(1)} ms  x${(o[k] / b[k]).toFixed(3)} (${((delta / b[k]) * 100).toFixed(1)}%)`,
      );
    }
  }
}

const work = mkdtempSync(join(tmpdir(), 'cryo-bench-'));
const started: number[] = [];
// carried by every small tree this run starts, and by their restored copies: what the cleanup ends
const marker = benchMarker();
try {
  // run() starts the tree in cryo's PID namespace; both sides dump its init (the same tree)
  const small = async () => {
    const r = await run('sh', ['-c', loopScript(marker)]);
    started.push(r.rootPid);
    return r.rootPid;
  };
  const large = async () => {
    const r = await run(process.execPath, ['-e', 'const b = Buffer.alloc(1 << 30, 7); setInterval(() => b[0]++, 100)']);
    started.push(r.rootPid);
    // wait until the GiB is touched (RSS above 1 GiB)
    for (;;) {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${r.pid}/status`, 'utf8'))?.[1] ?? 0);
      if (rss > 1024 * 1024) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    return r.rootPid;
  };
  console.log(`criu ${criu.version} at ${criu.path}; network-lock backend for trees that need one: ${lock}`);
  await compare('small tree (sh | sh pipe loop)', small, 7, work);
  await compare('large tree (node holding 1 GiB)', large, 3, work);
  console.log('\ngoal: at most +100 ms per dump+restore on the small tree, at most +5% on the large one');
  console.log(`node startup on this machine: ${nodeStartup().toFixed(1)} ms (paid twice per CLI dump+restore)`);
} finally {
  for (const p of started) kill(p);
  killMarked(marker);
  rmSync(work, { recursive: true, force: true });
}
