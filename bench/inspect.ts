// bench:inspect — one run, ratios against the peers:
//   `cryo x DIR mems` vs `crit x DIR mems` on a checkpoint of a 20,000-mapping process (goal >= 10x)
//   `cryo mem DIR --search` over a 512 MiB checkpoint vs `grep -F` over its raw pages files (goal <= 1.5x)
// Medians of interleaved trials. BENCH_CLI picks the cryo build; BENCH_BASE adds a second build to the
// same trials (before/after figures of a change).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { ImageDir } from '../src/inspect/images.js';
import { buildHolder, criuDump, startReady } from './holders.js';

const MAPPINGS = Number(process.env.BENCH_INSPECT_MAPPINGS ?? 20000);
const MIB = Number(process.env.BENCH_INSPECT_MIB ?? 512);
const RUNS = Number(process.env.RUNS ?? 7);
const NEEDLE = 'cryo-bench-needle-5f1e2d';
const defaultCli = new URL('../src/cli/main.js', import.meta.url).pathname;


interface Timed { ms: number; stdout: string; status: number | null }

function once(cmd: string, args: string[], keepOutput = true): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 28, stdio: ['ignore', keepOutput ? 'pipe' : 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout, status: r.status };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Each command `runs` times, interleaved (the order turned each trial); the median time and the last output of each. */
function interleave(cmds: Array<[string, string[]]>, runs: number): Array<{ median: number; stdout: string }> {
  const times: number[][] = cmds.map(() => []);
  const outs: string[] = cmds.map(() => '');
  for (let i = 0; i < runs; i++) {
    const order = cmds.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) {
      const r = once(cmds[k]![0], cmds[k]![1]);
      times[k]!.push(r.ms);
      outs[k] = r.stdout;
    }
  }
  return cmds.map((_, k) => ({ median: median(times[k]!), stdout: outs[k]! }));
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
  const cli = process.env.BENCH_CLI ?? defaultCli;
  const baseCli = process.env.BENCH_BASE;
  const criu = findCriu();
  const critPath = crit();
  if (!critPath) throw new Error('crit is not provisioned (cryo setup --crit, or set CRYO_CRIT)');
  const work = mkdtempSync(join(tmpdir(), 'cryo-bench-inspect-'));
  const pids: number[] = [];
  try {
    const holder = buildHolder(work);
    const dump = (pid: number, dir: string) => criuDump(criu.path, pid, dir);

    // 1. mappings
    const many = await startReady(holder, [String(MAPPINGS), '0', NEEDLE], join(work, 'many.out'));
    pids.push(many);
    const manyDir = join(work, 'many');
    dump(many, manyDir);
    const xArgs = (c: string): [string, string[]] => [process.execPath, [c, 'x', manyDir, 'mems']];
    const [ours, theirs, before] = interleave([xArgs(cli), [critPath, ['x', manyDir, 'mems']], ...(baseCli ? [xArgs(baseCli)] : [])], RUNS);
    const same = ours!.stdout === theirs!.stdout;
    const vmas = ours!.stdout.split('\n').filter((l) => /^\t[0-9a-f]+-/.test(l)).length;
    // the same work in-process (no Node start-up, no CLI module loading): what the library costs
    const { exploreMems } = await import('../src/inspect/explore.js');
    const { renderMems } = await import('../src/cli/render/explore.js');
    let lib = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      renderMems(exploreMems(new ImageDir(manyDir)));
      lib = Math.min(lib, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const [bare] = interleave([[process.execPath, ['-e', '0']]], RUNS);
    console.log(`node start-up alone: ${bare!.median.toFixed(0)} ms; cryo x mems in-process: ${lib.toFixed(0)} ms -> crit/in-process = ${(theirs!.median / lib).toFixed(1)}x`);
    console.log(`x mems (${vmas} mappings): cryo ${ours!.median.toFixed(0)} ms, crit ${theirs!.median.toFixed(0)} ms -> cryo is ${(theirs!.median / ours!.median).toFixed(1)}x faster (goal >= 10x); output identical: ${same}`);
    if (before) console.log(`x mems, BENCH_BASE: ${before.median.toFixed(0)} ms -> this build takes ${(ours!.median / before.median).toFixed(2)}x its time`);

    // 2. memory search
    const big = await startReady(holder, ['0', String(MIB), NEEDLE], join(work, 'big.out'));
    pids.push(big);
    const bigDir = join(work, 'big');
    dump(big, bigDir);
    const pages = readdirSync(bigDir).filter((n) => /^pages-\d+\.img$/.test(n)).map((n) => join(bigDir, n));
    // warm the page cache for both
    once('cat', pages, false);
    const memArgs = (c: string): [string, string[]] => [process.execPath, [c, 'mem', bigDir, '--search', NEEDLE, '--json']];
    const [s, g, sBefore] = interleave([memArgs(cli), ['grep', ['-F', '-c', NEEDLE, ...pages]], ...(baseCli ? [memArgs(baseCli)] : [])], RUNS);
    const found = JSON.parse(s!.stdout).count;
    const { searchMemory } = await import('../src/inspect/search.js');
    let libSearch = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      searchMemory(new ImageDir(bigDir), { text: NEEDLE });
      libSearch = Math.min(libSearch, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`mem search in-process: ${libSearch.toFixed(0)} ms -> in-process/grep = ${(libSearch / g!.median).toFixed(2)}x`);
    console.log(`mem --search over ${MIB} MiB: cryo ${s!.median.toFixed(0)} ms (${found} match${found === 1 ? '' : 'es'}), grep -F ${g!.median.toFixed(0)} ms -> cryo/grep = ${(s!.median / g!.median).toFixed(2)}x (goal <= 1.5x)`);
    if (sBefore) console.log(`mem --search, BENCH_BASE: ${sBefore.median.toFixed(0)} ms -> this build takes ${(s!.median / sBefore.median).toFixed(2)}x its time`);
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
