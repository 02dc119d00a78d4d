// Benchmark: decode the mm image of a process with 20,000 mappings with `cryo decode` and with
// `crit decode` (whole CLI calls, startup included), in one run; prints the ratio. BENCH_CLI picks the
// cryo build to measure; BENCH_BASE names a second build (another checkout's dist/src/cli/main.js),
// measured in the same interleaved trials: before/after figures of a change.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { findCrit } from '../test/helpers/env.js';

const MAPPINGS = Number(process.env.MAPPINGS ?? 20000);
const root = new URL('../../', import.meta.url).pathname;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Sample { wall: number; cpu: number }

/** One whole CLI call: wall time, and CPU time (user+sys, from GNU time) which load on a shared machine disturbs less. */
function time(cmd: string, args: string[]): Sample {
  const t0 = process.hrtime.bigint();
  const r = GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', '@@%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28, encoding: 'utf8' })
    : spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const m = /@@([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(cmd: string, args: string[], runs: number): Sample {
  const xs = Array.from({ length: runs }, () => time(cmd, args));
  return { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) };
}

async function main(): Promise<void> {
  const crit = findCrit();
  if (!crit) throw new Error('crit is not provisioned (run `cryo setup --crit` or set CRYO_CRIT)');
  const criu = findCriu();
  const base = mkdtempSync(join(tmpdir(), 'cryo-bench-codec-'));
  let pid: number | undefined;
  try {
    const bin = join(base, 'maps');
    const cc = spawnSync('gcc', ['-O1', '-o', bin, join(root, 'test/fixtures/images/maps.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
    const outPath = join(base, 'out');
    const out = openSync(outPath, 'w');
    const child = spawn(bin, [String(MAPPINGS)], { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    pid = child.pid!;
    while (!readFileSync(outPath, 'utf8').includes('ready')) {
      if (child.exitCode !== null) throw new Error(`maps exited: ${readFileSync(outPath, 'utf8')}`);
      await sleep(20);
    }
    const dir = join(base, 'images');
    spawnSync('mkdir', [dir]);
    const d = spawnSync(criu.path, ['dump', '-t', String(pid), '-D', dir, '--shell-job', '-o', 'dump.log'], { encoding: 'utf8' });
    if (d.status !== 0) throw new Error(`criu dump failed (see ${dir}/dump.log)`);
    pid = undefined;
    const mm = join(dir, readdirSync(dir).find((f) => f.startsWith('mm-'))!);
    const json = join(base, 'out.json');
    console.log(`mm image: ${statSync(mm).size} bytes, ${MAPPINGS} mappings requested`);
    const cliPath = process.env.BENCH_CLI ?? join(root, 'dist/src/cli/main.js');
    const basePath = process.env.BENCH_BASE;
    const pstree = join(dir, 'pstree.img');
    const runs = Number(process.env.RUNS ?? 7);
    // startup: the same command on a one-entry image
    const cryoStart = measure(process.execPath, [cliPath, 'decode', '-i', pstree, '-o', json], runs);
    const critStart = measure(crit, ['decode', '-i', pstree, '-o', json], runs);
    console.log(`startup (decode of a 1-entry image): cryo ${cryoStart.wall.toFixed(0)} ms wall / ${cryoStart.cpu.toFixed(0)} ms cpu, crit ${critStart.wall.toFixed(0)} ms wall / ${critStart.cpu.toFixed(0)} ms cpu`);
    for (const pretty of [false, true]) {
      const p = pretty ? ['--pretty'] : [];
      const cryoArgs = [cliPath, 'decode', ...p, '-i', mm, '-o', json];
      const critArgs = ['decode', ...p, '-i', mm, '-o', json];
      time(process.execPath, cryoArgs); // warm the page cache
      const baseArgs = basePath ? [basePath, ...cryoArgs.slice(1)] : undefined;
      const a: Sample[] = [];
      const b: Sample[] = [];
      const c: Sample[] = [];
      // interleaved, the order turned each trial: the machine's load falls on all alike
      for (let i = 0; i < runs; i++) {
        const trial = [() => a.push(time(process.execPath, cryoArgs)), () => b.push(time(crit, critArgs))];
        if (baseArgs) trial.push(() => c.push(time(process.execPath, baseArgs)));
        for (const run of i % 2 ? trial.reverse() : trial) run();
      }
      const ca = { wall: median(a.map((x) => x.wall)), cpu: median(a.map((x) => x.cpu)) };
      const cb = { wall: median(b.map((x) => x.wall)), cpu: median(b.map((x) => x.cpu)) };
      const label = `decode${pretty ? ' --pretty' : ''}`;
      console.log(`${label}: cryo ${ca.wall.toFixed(0)} ms wall / ${ca.cpu.toFixed(0)} ms cpu, crit ${cb.wall.toFixed(0)} ms wall / ${cb.cpu.toFixed(0)} ms cpu (median of ${runs})`);
      console.log(`${label}: whole CLI call, cryo is ${(cb.wall / ca.wall).toFixed(1)}x faster (wall), ${(cb.cpu / ca.cpu).toFixed(1)}x (cpu)`);
      if (baseArgs) {
        const cc = { wall: median(c.map((x) => x.wall)), cpu: median(c.map((x) => x.cpu)) };
        console.log(`${label}: BENCH_BASE ${cc.wall.toFixed(0)} ms wall / ${cc.cpu.toFixed(0)} ms cpu -> this build takes ${(ca.wall / cc.wall).toFixed(2)}x its wall time, ${(ca.cpu / cc.cpu).toFixed(2)}x its cpu`);
      }
      console.log(`${label}: the decoding work alone (minus each tool's startup), cryo is ${((cb.cpu - critStart.cpu) / Math.max(1, ca.cpu - cryoStart.cpu)).toFixed(1)}x faster (cpu)`);
    }
    // in-process, what inspection pays: the codec's full and lean decodes of the same mm image
    const { readImage, readImageLean } = await import('../src/images/read-image.js');
    const { transcodeToJson } = await import('../src/images/transcode.js');
    for (const [label, file] of [['mm', mm]] as const) {
      const once = (fn: () => unknown): number => {
        const t0 = process.hrtime.bigint();
        fn();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const bytes = readFileSync(file);
      const firstDirect = once(() => transcodeToJson(bytes, { name: file }));
      const direct = Math.min(...Array.from({ length: runs }, () => once(() => transcodeToJson(bytes, { name: file }))));
      console.log(`${label} in-process: bytes to crit's JSON directly ${firstDirect.toFixed(1)} ms first (what one decode call pays), ${direct.toFixed(1)} ms best`);
      const firstLean = once(() => readImageLean(file));
      const firstFull = once(() => readImage(file));
      const lean = Math.min(...Array.from({ length: runs }, () => once(() => readImageLean(file))));
      const full = Math.min(...Array.from({ length: runs }, () => once(() => readImage(file))));
      console.log(`${label} (${statSync(file).size} bytes) in-process: lean decode ${firstLean.toFixed(1)} ms first, ${lean.toFixed(1)} ms best; full decode ${firstFull.toFixed(1)} ms first, ${full.toFixed(1)} ms best -> lean is ${(full / lean).toFixed(1)}x faster`);
    }
  } finally {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
