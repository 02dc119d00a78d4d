// bench:report — `cryo report CKPT -o FILE` against `cryo inspect CKPT --json` on the same
// checkpoint of a 20,000-mapping process (goal: report <= 2x inspect); also the report's size.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCriu } from '../src/criu/find.js';

const MAPPINGS = Number(process.env.BENCH_REPORT_MAPPINGS ?? 20000);
const RUNS = 5;
const cli = new URL('../src/cli/main.js', import.meta.url).pathname;

// alternate protections so neighbours never merge; one dirty page each
const SOURCE = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int fd = 3; fd < 1024; fd++) close(fd);
  long n = atol(argv[1]);
  for (long i = 0; i < n; i++) {
    char *p = mmap(0, 4096, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    p[0] = 1;
  }
  printf("ready\\n");
  fflush(stdout);
  for (;;) pause();
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function best(args: string[]): number {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`cryo ${args.join(' ')} failed: ${r.stderr}`);
    min = Math.min(min, ms);
  }
  return min;
}

async function main(): Promise<void> {
  const criu = findCriu();
  const work = mkdtempSync(join(tmpdir(), 'cryo-bench-report-'));
  let pid: number | undefined;
  try {
    writeFileSync(join(work, 'holder.c'), SOURCE);
    const cc = spawnSync('gcc', ['-O2', '-o', join(work, 'holder'), join(work, 'holder.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
    const out = join(work, 'holder.out');
    const fd = openSync(out, 'w');
    const child = spawn(join(work, 'holder'), [String(MAPPINGS)], { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.unref();
    pid = child.pid!;
    for (let i = 0; i < 1200 && !readFileSync(out, 'utf8').includes('ready'); i++) await sleep(50);
    const dir = join(work, 'ckpt');
    mkdirSync(dir);
    const d = spawnSync(criu.path, ['dump', '-t', String(pid), '-D', dir, '-o', 'dump.log'], { encoding: 'utf8' });
    if (d.status !== 0) throw new Error(`criu dump failed: see ${dir}/dump.log`);
    pid = undefined; // criu dump ended it
    const html = join(work, 'report.html');
    const inspect = best(['inspect', dir, '--json']);
    const report = best(['report', dir, '-o', html]);
    const json = best(['report', dir, '--format', 'json']);
    const size = statSync(html).size;
    console.log(`checkpoint of ${MAPPINGS} mappings`);
    console.log(`cryo inspect --json: ${inspect.toFixed(0)} ms; cryo report (html): ${report.toFixed(0)} ms -> report/inspect = ${(report / inspect).toFixed(2)}x (goal <= 2x)`);
    console.log(`cryo report --format json: ${json.toFixed(0)} ms -> ${(json / inspect).toFixed(2)}x; the HTML is ${(size / 1e6).toFixed(2)} MB (goal < 5 MB)`);
  } finally {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
