// bench:inspect — one run, ratios against the peers:
//   `cryo x DIR mems` vs `crit x DIR mems` on a checkpoint of a 20,000-mapping process (goal >= 10x)
//   `cryo mem DIR --search` over a 512 MiB checkpoint vs `grep -F` over its raw pages files (goal <= 1.5x)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { ImageDir } from '../src/inspect/images.js';
import { buildHolder, startReady } from './holders.js';

const MAPPINGS = Number(process.env.BENCH_INSPECT_MAPPINGS ?? 20000);
const MIB = Number(process.env.BENCH_INSPECT_MIB ?? 512);
const NEEDLE = 'cryo-bench-needle-5f1e2d';
const cli = new URL('../src/cli/main.js', import.meta.url).pathname;


function time(cmd: string, args: string[], runs: number, keepOutput = true): { best: number; stdout: string; status: number | null } {
  let best = Infinity;
  let stdout = '';
  let status: number | null = null;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 28, stdio: ['ignore', keepOutput ? 'pipe' : 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    best = Math.min(best, ms);
    stdout = r.stdout;
    status = r.status;
  }
  return { best, stdout, status };
}

function crit(): string | undefined {
  if (process.env.CRYO_CRIT) return process.env.CRYO_CRIT;
  const base = join(process.env.XDG_CACHE_HOME || join(process.env.HOME || '/root', '.cache'), 'cryo');
  try {
    const d = readdirSync(base).filter((n) => n.startsWith('crit-')).sort().reverse()[0];
    return d ? join(base, d, 'bin', 'crit') : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const criu = findCriu();
  const critPath = crit();
  if (!critPath) throw new Error('crit is not provisioned (cryo setup --crit, or set CRYO_CRIT)');
  const work = mkdtempSync(join(tmpdir(), 'cryo-bench-inspect-'));
  const pids: number[] = [];
  try {
    const holder = buildHolder(work);
    const dump = (pid: number, dir: string) => {
      mkdirSync(dir);
      const r = spawnSync(criu.path, ['dump', '-t', String(pid), '-D', dir, '-o', 'dump.log'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`criu dump failed: see ${dir}/dump.log`);
    };

    // 1. mappings
    const many = await startReady(holder, [String(MAPPINGS), '0', NEEDLE], join(work, 'many.out'));
    pids.push(many);
    const manyDir = join(work, 'many');
    dump(many, manyDir);
    const ours = time(process.execPath, [cli, 'x', manyDir, 'mems'], 5);
    const theirs = time(critPath, ['x', manyDir, 'mems'], 2);
    const same = ours.stdout === theirs.stdout;
    const vmas = ours.stdout.split('\n').filter((l) => /^\t[0-9a-f]+-/.test(l)).length;
    // the same work in-process (no Node start-up, no CLI module loading): what the library costs
    const { exploreMems } = await import('../src/inspect/explore.js');
    const { renderMems } = await import('../src/cli/render/explore.js');
    let lib = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      renderMems(exploreMems(new ImageDir(manyDir)));
      lib = Math.min(lib, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const bare = time(process.execPath, ['-e', '0'], 5);
    console.log(`node start-up alone: ${bare.best.toFixed(0)} ms; cryo x mems in-process: ${lib.toFixed(0)} ms -> crit/in-process = ${(theirs.best / lib).toFixed(1)}x`);
    console.log(`x mems (${vmas} mappings): cryo ${ours.best.toFixed(0)} ms, crit ${theirs.best.toFixed(0)} ms -> cryo is ${(theirs.best / ours.best).toFixed(1)}x faster (goal >= 10x); output identical: ${same}`);

    // 2. memory search
    const big = await startReady(holder, ['0', String(MIB), NEEDLE], join(work, 'big.out'));
    pids.push(big);
    const bigDir = join(work, 'big');
    dump(big, bigDir);
    const pages = readdirSync(bigDir).filter((n) => /^pages-\d+\.img$/.test(n)).map((n) => join(bigDir, n));
    // warm the page cache for both
    time('cat', pages, 1, false);
    const g = time('grep', ['-F', '-c', NEEDLE, ...pages], 5);
    const s = time(process.execPath, [cli, 'mem', bigDir, '--search', NEEDLE, '--json'], 5);
    const found = JSON.parse(s.stdout).count;
    const { searchMemory } = await import('../src/inspect/search.js');
    let libSearch = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      searchMemory(new ImageDir(bigDir), { text: NEEDLE });
      libSearch = Math.min(libSearch, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`mem search in-process: ${libSearch.toFixed(0)} ms -> in-process/grep = ${(libSearch / g.best).toFixed(2)}x`);
    console.log(`mem --search over ${MIB} MiB: cryo ${s.best.toFixed(0)} ms (${found} match${found === 1 ? '' : 'es'}), grep -F ${g.best.toFixed(0)} ms -> cryo/grep = ${(s.best / g.best).toFixed(2)}x (goal <= 1.5x)`);
  } finally {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* criu dump already ended it */
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
