// bench:check — the preflight of a live 200-process tree (goal: under one second), and, for scale, the
// time bare `criu dump --leave-running` takes on the same tree, in one run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';
import { listTree } from '../src/kernel/process.js';
import { preflight } from '../src/preflight/preflight.js';

const N = Number(process.env.BENCH_CHECK_PROCS ?? 200);
const RUNS = Number(process.env.BENCH_CHECK_RUNS ?? 5);
const repoRoot = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'cryo-bench-check-'));
  const prog = join(work, 'preflight-trees');
  const cc = spawnSync('gcc', ['-O1', '-pthread', '-o', prog, join(repoRoot, 'test', 'fixtures', 'preflight-trees.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr || cc.error}`);
  // its own session, stdio on /dev/null; the program closes inherited fds itself
  const child = spawn(prog, ['fanout', String(N)], { detached: true, stdio: 'ignore' });
  child.unref();
  const root = child.pid!;
  try {
    for (let i = 0; i < 500 && listTree(root).length < N; i++) await sleep(10);
    const count = listTree(root).length;
    if (count < N) throw new Error(`tree has ${count} processes, wanted ${N}`);

    const times: number[] = [];
    let report = preflight(root);
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      report = preflight(root);
      times.push(performance.now() - t0);
    }
    const pf = median(times);
    console.log(`preflight of a ${report.processes.length}-process tree: median ${pf.toFixed(1)} ms over ${RUNS} runs (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}); goal < 1000 ms: ${pf < 1000 ? 'met' : 'MISSED'}`);
    console.log(`  verdict: dumpable=${report.dumpable}, options=${JSON.stringify(report.options)}, findings=${report.findings.length}`);

    let criuPath: string | undefined;
    try {
      criuPath = findCriu({ skipCheck: true }).path;
    } catch {
      console.log('peer: no CRIU found; skipped `criu dump --leave-running`');
    }
    if (criuPath) {
      const img = join(work, 'img');
      mkdirSync(img);
      const t0 = performance.now();
      const r = spawnSync(criuPath, ['dump', '-t', String(root), '-D', img, '--leave-running', '-o', 'dump.log'], { encoding: 'utf8' });
      const dump = performance.now() - t0;
      if (r.status !== 0) {
        const log = (() => { try { return readFileSync(join(img, 'dump.log'), 'utf8'); } catch { return ''; } })();
        console.log(`peer: criu dump failed (status ${r.status}; ${r.stderr.trim().split('\n').pop()}): ${log.split('\n').filter((l) => /Error|Warn/.test(l) && !/RLIMIT/.test(l)).slice(-3).join(' | ')}`);
      } else {
        console.log(`peer: criu dump --leave-running of the same tree: ${dump.toFixed(1)} ms`);
        console.log(`ratio: preflight takes ${(pf / dump).toFixed(3)}x the time of the dump it predicts (${(dump / pf).toFixed(1)}x faster)`);
      }
    }
  } finally {
    for (const p of listTree(root).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
