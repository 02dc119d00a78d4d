// npm run bench: every row of issue 15's table in one run, each as cryo's figure, the peer's and the
// ratio: medians of interleaved trials (the side that goes first alternates), the load average noted.
// --quick: 3 trials and smaller memory (a smoke run, not the issue's figures). --only=startup,dump,inspect,archive
// runs those groups; BENCH_CLI=PATH/main.js measures another build of cryo (before/after comparisons).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStats } from '../src/checkpoint/stats.js';
import { findCriu } from '../src/criu/find.js';
import { listTree } from '../src/kernel/process.js';
import { childPids, run } from '../src/kernel/run.js';
import { findCrit } from '../test/helpers/env.js';
import { benchMarker, buildHolder, criuDump, killMarked, loopScript, startPyHolder, startReady } from './holders.js';

const QUICK = process.argv.includes('--quick');
const TRIALS = Number(process.env.BENCH_TRIALS ?? (QUICK ? 3 : 5));
const MAPPINGS = 20000;
const SEARCH_MIB = Number(process.env.BENCH_SEARCH_MIB ?? (QUICK ? 64 : 512));
const ARCHIVE_MIB = Number(process.env.BENCH_ARCHIVE_MIB ?? (QUICK ? 128 : 1024));
const NEEDLE = 'cryo-bench-needle-5f1e2d';
// carried by every small tree this run starts, and by their restored copies: what the cleanup ends
const MARKER = benchMarker();
// the launcher users run (bin/cryo: the start-up snapshot when it fits); BENCH_CLI=.../main.js measures a build's modules
const cli = process.env.BENCH_CLI || new URL('../../bin/cryo', import.meta.url).pathname;
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const wanted = (group: string) => !only || only.includes(group);
const node = process.execPath;
const criu = findCriu();
const crit = findCrit();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(2);

/** One whole call's wall time; throws unless its exit status is one of `ok`. */
function timed(cmd: string, args: string[], ok = [0]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t0;
  if (r.error || !ok.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr} ${r.error ?? ''}`);
  return { ms, stdout: r.stdout };
}

/** A cryo command: through node when BENCH_CLI names a script, else the launcher itself. */
function timedCryo(args: string[], ok = [0]): { ms: number; stdout: string } {
  return cli.endsWith('.js') ? timed(node, [cli, ...args], ok) : timed(cli, args, ok);
}

/** Runs cryo's and the peer's trial `TRIALS` times, alternating which goes first. */
async function interleave(cryoTrial: () => Promise<number> | number, peerTrial: () => Promise<number> | number): Promise<{ cryo: number[]; peer: number[] }> {
  const cryo: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    if (i % 2 === 0) {
      cryo.push(await cryoTrial());
      peer.push(await peerTrial());
    } else {
      peer.push(await peerTrial());
      cryo.push(await cryoTrial());
    }
  }
  return { cryo, peer };
}

const pids: number[] = [];
function killAll(list: number[]): void {
  for (const p of list) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
function gone(pid: number): boolean {
  try {
    return !statSync(`/proc/${pid}`);
  } catch {
    return true;
  }
}
async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500 && !gone(pid); i++) await sleep(10);
}

interface Row {
  figure: string;
  cryo: string;
  peer: string;
  ratio: string;
  goal: string;
  met: boolean;
  load: string;
  note?: string;
}
const rows: Row[] = [];
function report(r: Row): void {
  rows.push(r);
  console.log(`  ${r.figure}: cryo ${r.cryo}, peer ${r.peer} -> ${r.ratio} (goal ${r.goal}: ${r.met ? 'met' : 'NOT met'}; load ${r.load})${r.note ? `\n    ${r.note}` : ''}`);
}
const ms = (x: number) => `${x.toFixed(0)} ms`;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms`;

/** A cryo command's start vs `node -e 0`: `cryo --version`, and `cryo check --pid` on one sleeping process. */
async function benchStartup(): Promise<void> {
  const r = await run('sleep', ['1000'], { pidns: false });
  pids.push(r.pid);
  const l0 = load();
  const nodeMs: number[] = [];
  const version: number[] = [];
  const check: number[] = [];
  timedCryo(['--version']); // warm the page cache
  for (let i = 0; i < Math.max(TRIALS, 7); i++) {
    const order = [
      () => nodeMs.push(timed(node, ['-e', '0']).ms),
      () => version.push(timedCryo(['--version']).ms),
      // 0 dumpable, 5 with options, 6 blocked: each is an answer
      () => check.push(timedCryo(['check', '--pid', String(r.pid)], [0, 5, 6]).ms),
    ];
    for (let k = 0; k < order.length; k++) order[(k + i) % order.length]!();
  }
  const n = median(nodeMs);
  for (const [label, xs] of [['`cryo --version`', version], ['`cryo check --pid` (one process)', check]] as const) {
    const c = median(xs);
    report({ figure: `start: ${label} vs \`node -e 0\``, cryo: ms(c), peer: ms(n), ratio: `${(c / n).toFixed(2)}x`, goal: '<= 1.2x', met: c / n <= 1.2, load: `${l0}-${load()}`, note: `cryo ${range(xs)}, node ${range(nodeMs)} over ${xs.length} trials` });
  }
  killAll([r.pid]);
}

/** `cryo dump` + `cryo restore` (two CLI calls) of a small tree vs bare `criu dump` + `criu restore`. */
async function benchDumpRestore(work: string): Promise<void> {
  const start = async () => {
    const r = await run('sh', ['-c', loopScript(MARKER)]);
    pids.push(r.rootPid);
    return r.rootPid;
  };
  const split = { dump: [] as number[], restore: [] as number[] };
  const bare = async () => {
    const init = await start();
    const dir = mkdtempSync(join(work, 'bare-'));
    // what cryo passes for this tree: log level 4 and a log file
    const d = timed(criu.path, ['dump', '-t', String(init), '-D', dir, '-o', 'dump.log', '-v4']);
    const pidfile = join(dir, 'restored.pid');
    const r = timed(criu.path, ['restore', '-D', dir, '-d', '-o', 'restore.log', '-v4', '--pidfile', pidfile]);
    killAll([Number(readFileSync(pidfile, 'utf8'))]);
    rmSync(dir, { recursive: true, force: true });
    return d.ms + r.ms;
  };
  const cryo = async () => {
    const init = await start();
    const dir = join(mkdtempSync(join(work, 'cryo-')), 'ckpt');
    const d = timedCryo(['dump', String(childPids(init)[0]), '-D', dir]);
    const r = timedCryo(['restore', '-D', dir, '--json']);
    killAll([JSON.parse(r.stdout).rootPid]);
    split.dump.push(d.ms);
    split.restore.push(r.ms);
    rmSync(join(dir, '..'), { recursive: true, force: true });
    return d.ms + r.ms;
  };
  const l0 = load();
  await bare(); // warm CRIU's files
  await cryo();
  const t = await interleave(cryo, bare);
  const c = median(t.cryo);
  const p = median(t.peer);
  report({ figure: 'dump+restore of a small tree, CLI, vs bare criu dump + criu restore', cryo: ms(c), peer: ms(p), ratio: `+${(c - p).toFixed(0)} ms (x${(c / p).toFixed(2)})`, goal: '<= +100 ms', met: c - p <= 100, load: `${l0}-${load()}`, note: `cryo ${range(t.cryo)} (median dump ${ms(median(split.dump))}, restore ${ms(median(split.restore))}), bare ${range(t.peer)}` });
}

/** decode of a 20,000-mapping mm image and `x DIR mems` vs crit; `mem --search` vs grep -F. */
async function benchInspect(work: string, holder: string): Promise<void> {
  const dump = (pid: number, dir: string) => criuDump(criu.path, pid, dir);
  const many = await startReady(holder, [String(MAPPINGS), '0', NEEDLE], join(work, 'many.out'));
  pids.push(many);
  const manyDir = join(work, 'many');
  dump(many, manyDir);
  const mm = join(manyDir, readdirSync(manyDir).find((f) => f.startsWith('mm-'))!);
  const json = join(work, 'mm.json');
  if (crit) {
    let l0 = load();
    timedCryo(['decode', '-i', mm, '-o', json]);
    let t = await interleave(() => timedCryo(['decode', '-i', mm, '-o', json]).ms, () => timed(crit, ['decode', '-i', mm, '-o', json]).ms);
    let c = median(t.cryo);
    let p = median(t.peer);
    report({ figure: `\`cryo decode\` of a ${MAPPINGS}-mapping mm image (${statSync(mm).size} bytes) vs \`crit decode\``, cryo: ms(c), peer: ms(p), ratio: `${(p / c).toFixed(1)}x faster`, goal: '>= 10x faster', met: p / c >= 10, load: `${l0}-${load()}` });
    l0 = load();
    const outs = { cryo: '', crit: '' };
    t = await interleave(
      () => {
        const r = timedCryo(['x', manyDir, 'mems']);
        outs.cryo = r.stdout;
        return r.ms;
      },
      () => {
        const r = timed(crit, ['x', manyDir, 'mems']);
        outs.crit = r.stdout;
        return r.ms;
      },
    );
    c = median(t.cryo);
    p = median(t.peer);
    report({ figure: `\`cryo x DIR mems\` vs \`crit x DIR mems\` (${MAPPINGS} mappings)`, cryo: ms(c), peer: ms(p), ratio: `${(p / c).toFixed(1)}x faster`, goal: '>= 10x faster', met: p / c >= 10, load: `${l0}-${load()}`, note: `output identical: ${outs.cryo === outs.crit}` });
  } else console.log('  crit is not provisioned (cryo setup --crit, or CRYO_CRIT): decode and x rows skipped');

  const big = await startReady(holder, ['0', String(SEARCH_MIB), NEEDLE], join(work, 'big.out'));
  pids.push(big);
  const bigDir = join(work, 'big');
  dump(big, bigDir);
  const pages = readdirSync(bigDir).filter((n) => /^pages-\d+\.img$/.test(n)).map((n) => join(bigDir, n));
  spawnSync('cat', pages, { stdio: 'ignore' }); // both read from the page cache
  const l0 = load();
  let found = -1;
  const t = await interleave(
    () => {
      const r = timedCryo(['mem', bigDir, '--search', NEEDLE, '--json']);
      found = JSON.parse(r.stdout).count;
      return r.ms;
    },
    () => timed('grep', ['-F', '-c', NEEDLE, ...pages], [0, 1]).ms,
  );
  const c = median(t.cryo);
  const p = median(t.peer);
  report({ figure: `\`cryo mem --search\` over ${SEARCH_MIB} MiB vs \`grep -F\` over the raw pages files`, cryo: ms(c), peer: ms(p), ratio: `${(c / p).toFixed(2)}x grep's time`, goal: '<= 1.5x', met: c / p <= 1.5, load: `${l0}-${load()}`, note: `${found} match(es)` });
}

/** 1 GiB: CRIU's frozen time, `cryo dump -o FILE` vs `criu dump -D DIR`; `cryo restore -i FILE` vs `criu restore -D DIR`. */
async function benchArchive(): Promise<void> {
  // on disk, as a user's checkpoint would be
  const work = mkdtempSync('/var/tmp/cryo-bench-all-');
  try {
    let n = 0;
    const startHolder = async () => {
      const pid = await startPyHolder(work, ARCHIVE_MIB, String(n++));
      pids.push(pid);
      return pid;
    };
    const frozen = { cryo: [] as number[], peer: [] as number[] };
    const restore = { cryo: [] as number[], peer: [] as number[], prepare: [] as number[], criu: [] as number[] };
    const bareDir = join(work, 'bare');
    const archive = join(work, 'app.ckpt');
    const bare = async () => {
      rmSync(bareDir, { recursive: true, force: true });
      mkdirSync(bareDir);
      const pid = await startHolder();
      spawnSync('sync'); // no writeback of the previous trial's files during this dump
      timed(criu.path, ['dump', '-t', String(pid), '-D', bareDir, '-o', 'dump.log']);
      frozen.peer.push((readStats(bareDir).dump?.frozen_time ?? NaN) / 1000);
      await waitGone(pid);
      restore.peer.push(timed(criu.path, ['restore', '-D', bareDir, '-d', '-o', 'restore.log']).ms);
      killAll(listTree(pid));
      await waitGone(pid);
      return 0;
    };
    const cryo = async () => {
      rmSync(archive, { force: true });
      const pid = await startHolder();
      spawnSync('sync');
      const d = JSON.parse(timedCryo(['dump', String(pid), '-o', archive, '--json']).stdout);
      frozen.cryo.push((d.stats?.frozen_time ?? NaN) / 1000);
      await waitGone(pid);
      const r = timedCryo(['restore', '-i', archive, '--json']);
      restore.cryo.push(r.ms);
      const rj = JSON.parse(r.stdout) as { rootPid: number; prepareMs: number; criuMs: number };
      restore.prepare.push(rj.prepareMs);
      restore.criu.push(rj.criuMs);
      const root = rj.rootPid;
      pids.push(root);
      killAll(listTree(root));
      await waitGone(root);
      return 0;
    };
    const l0 = load();
    await interleave(cryo, bare);
    const l1 = `${l0}-${load()}`;
    let c = median(frozen.cryo);
    let p = median(frozen.peer);
    report({ figure: `CRIU's frozen time, ${ARCHIVE_MIB} MiB, \`cryo dump -o FILE\` vs bare criu to a directory on disk`, cryo: ms(c), peer: ms(p), ratio: `${(c / p).toFixed(2)}x`, goal: '<= 1.0x', met: c / p <= 1.0, load: l1, note: `cryo ${range(frozen.cryo)}, bare ${range(frozen.peer)}` });
    c = median(restore.cryo);
    p = median(restore.peer);
    report({ figure: `\`cryo restore -i\` of a ${ARCHIVE_MIB} MiB archive vs bare \`criu restore\` from a directory`, cryo: ms(c), peer: ms(p), ratio: `${(c / p).toFixed(2)}x`, goal: '<= 1.5x', met: c / p <= 1.5, load: l1, note: `cryo ${range(restore.cryo)} (median ${ms(median(restore.prepare))} verify+extract, ${ms(median(restore.criu))} CRIU), bare ${range(restore.peer)}` });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'cryo-bench-all-'));
  const t0 = performance.now();
  try {
    console.log(`cryo bench${QUICK ? ' --quick' : ''} (${cli}): ${TRIALS} interleaved trials per row, medians; node ${process.version}, criu ${criu.version}, crit ${crit ?? 'none'}`);
    console.log(`machine: ${readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min)`);
    const holder = buildHolder(work);
    if (wanted('startup')) await benchStartup();
    if (wanted('dump')) await benchDumpRestore(work);
    if (wanted('inspect')) await benchInspect(work, holder);
    if (wanted('archive')) await benchArchive();
  } finally {
    killAll(pids.flatMap((p) => listTree(p)));
    killMarked(MARKER);
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\n| figure | cryo | peer | ratio | goal | met | load (1 min) |\n| --- | --- | --- | --- | --- | --- | --- |`);
  for (const r of rows) console.log(`| ${r.figure} | ${r.cryo} | ${r.peer} | ${r.ratio} | ${r.goal} | ${r.met ? 'yes' : 'no'} | ${r.load} |`);
  console.log(`\n${TRIALS} trials per row; whole run ${((performance.now() - t0) / 1000).toFixed(0)} s; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
