// The processes the benches checkpoint, shared by inspect.ts, dump.ts and all.ts.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../src/kernel/run.js';

// argv: MAPPINGS MIB NEEDLE. Many mappings: alternate protections so neighbours never merge; one
// dirty page each. MIB MiB of xorshift noise with the needle planted near the end.
const HOLDER_C = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int fd = 3; fd < 1024; fd++) close(fd);
  long maps = atol(argv[1]), mib = atol(argv[2]);
  for (long i = 0; i < maps; i++) {
    char *p = mmap(0, 4096, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    p[0] = 1;
  }
  if (mib) {
    size_t n = (size_t)mib << 20;
    unsigned long *b = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long x = 88172645463325252UL;
    for (size_t i = 0; i < n / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; b[i] = x; }
    memcpy((char *)b + n - 3 * 4096 - 5, argv[3], strlen(argv[3]));
  }
  printf("ready\\n");
  fflush(stdout);
  for (;;) pause();
}
`;

/** Compiles the holder into `work`; returns the binary's path. */
export function buildHolder(work: string): string {
  writeFileSync(join(work, 'holder.c'), HOLDER_C);
  const bin = join(work, 'holder');
  const cc = spawnSync('gcc', ['-O2', '-o', bin, join(work, 'holder.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  return bin;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `bin args` in its own session, stdio to `out`; resolves with its pid once it printed "ready". */
export async function startReady(bin: string, args: string[], out: string): Promise<number> {
  const fd = openSync(out, 'w');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  for (let i = 0; i < 1200; i++) {
    if (readFileSync(out, 'utf8').includes('ready')) return child.pid!;
    await sleep(50);
  }
  throw new Error(`${bin} did not start: ${readFileSync(out, 'utf8')}`);
}

// argv: MIB READY_FILE. Half random bytes, half repeated text (what compression meets in real memory).
export const PY_HOLDER = `
import os, sys, time
n = int(sys.argv[1]); half = n // 2
a = bytearray(os.urandom(half << 20))
pat = b'cryo bench memory: some text, some numbers 0123456789; '
b = bytearray((pat * (((n - half) << 20) // len(pat) + 1))[: (n - half) << 20])
open(sys.argv[2], 'w').write('ready')
while True:
    time.sleep(0.1)
`;

/** The small tree both dump benches checkpoint: a pipe loop whose text carries `marker` (see killMarked). */
export function loopScript(marker: string): string {
  return `: ${marker}; i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done | while read -r l; do :; done`;
}

/** A marker no other process carries: this bench run's own. */
export function benchMarker(): string {
  return `cryo-bench-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** SIGKILLs every process whose command line carries `marker` (originals and restored copies alike). */
export function killMarked(marker: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(marker)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Bare CRIU's dump of `pid` into a new `dir` (log dump.log there), as the benches' peer. */
export function criuDump(criu: string, pid: number, dir: string): void {
  mkdirSync(dir);
  const r = spawnSync(criu, ['dump', '-t', String(pid), '-D', dir, '-o', 'dump.log'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`criu dump failed: see ${dir}/dump.log`);
}

/** Starts PY_HOLDER holding `mib` MiB (script and ready file in `work`); resolves with its pid once it holds them. */
export async function startPyHolder(work: string, mib: number, name: string): Promise<number> {
  const script = join(work, 'holder.py');
  if (!existsSync(script)) writeFileSync(script, PY_HOLDER);
  const ready = join(work, `${name}.ready`);
  const r = await run('python3', [script, String(mib), ready], { pidns: false });
  for (let i = 0; i < 1200; i++) {
    if (existsSync(ready)) return r.pid;
    await sleep(50);
  }
  throw new Error('the memory holder did not start');
}
