// Benchmark: decode the mm image of a process with 20,000 mappings with `cryo decode` and with
// `crit decode` (whole CLI calls, startup included), in one run; prints the ratio.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { findCrit } from '../test/helpers/env.js';

const MAPPINGS = Number(process.env.MAPPINGS ?? 20000);
const root = new URL('../../', import.meta.url).pathname;
const cliPath = join(root, 'dist/src/cli/main.js');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function time(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
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
    for (const pretty of [false, true]) {
      const p = pretty ? ['--pretty'] : [];
      const cryoArgs = [cliPath, 'decode', ...p, '-i', mm, '-o', json];
      const critArgs = ['decode', ...p, '-i', mm, '-o', json];
      time(process.execPath, cryoArgs); // warm the page cache
      const cryoMs: number[] = [];
      const critMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        cryoMs.push(time(process.execPath, cryoArgs));
        critMs.push(time(crit, critArgs));
      }
      const a = median(cryoMs);
      const b = median(critMs);
      console.log(`decode${pretty ? ' --pretty' : ''}: cryo ${a.toFixed(0)} ms, crit ${b.toFixed(0)} ms (median of 5) -> cryo is ${(b / a).toFixed(1)}x faster`);
    }
    const startup = median([0, 1, 2].map(() => time(process.execPath, [cliPath, '--help'])));
    console.log(`cryo startup (--help): ${startup.toFixed(0)} ms`);
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
