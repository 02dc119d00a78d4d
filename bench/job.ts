// The cost of periodic checkpoints: a CPU-bound job (a counting loop over 64 MiB of touched memory)
// runs under the job loop for the same wall time without checkpoints and with `--every 5s`, the two
// runs interleaved (one each side by default); prints the work done per second of each, their ratio,
// and CRIU's frozen time per checkpoint (also as a share of the period).
// Usage: npm run bench:job [-- --seconds 12 --every 5s --mem 64 --rounds 1]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseDuration } from '../src/job/duration.js';
import { startJob, type JobCheckpoint } from '../src/job/job.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const seconds = Number(arg('seconds', '12'));
const everyMs = parseDuration(arg('every', '5s'));
const memMiB = Number(arg('mem', '64'));
const rounds = Number(arg('rounds', '1'));

// prints the work units done so far every 200 ms; the state is in memory only
const PROGRAM = `const m=Buffer.alloc(${memMiB}<<20);for(let i=0;i<m.length;i+=4096)m[i]=i&255;
let n=0,x=1,last=Date.now();for(;;){for(let k=0;k<100000;k++){x=(x*1103515245+12345)&0x7fffffff;m[(x&(m.length-1))&~4095]^=1}n++;
const t=Date.now();if(t-last>=200){last=t;process.stdout.write(n+'\\n')}}`;

interface Side {
  unitsPerSec: number;
  checkpoints: JobCheckpoint[];
}

/** Runs the job for `seconds` wall seconds; the work rate is the last count over the time it was printed at. */
async function runSide(every: number | undefined): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-bench-job-'));
  let buf = '';
  let startAt = 0;
  let last = { units: 0, at: 0 };
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      const v = Number(lines.at(-1));
      if (lines.length && Number.isFinite(v)) last = { units: v, at: performance.now() };
      cb();
    },
  });
  const ac = new AbortController();
  const checkpoints: JobCheckpoint[] = [];
  try {
    const job = startJob(process.execPath, ['-e', PROGRAM], { checkpointDir: dir, everyMs: every, keep: 1, stdout, signal: ac.signal });
    job.on('started', () => (startAt = performance.now()));
    job.on('checkpointed', (c) => {
      if (!c.final) checkpoints.push(c);
    });
    job.on('warning', (w) => console.error(`warning: ${w.message}`));
    const done = job.done;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const snap = last;
    ac.abort();
    await done;
    return { unitsPerSec: snap.units / ((snap.at - startAt) / 1000), checkpoints };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const plain: number[] = [];
const periodic: number[] = [];
const cks: JobCheckpoint[] = [];
for (let r = 0; r < rounds; r++) {
  // interleaved: the order flips every round so neither side always runs on a warmer machine
  const order = r % 2 === 0 ? [false, true] : [true, false];
  for (const withEvery of order) {
    const s = await runSide(withEvery ? everyMs : undefined);
    (withEvery ? periodic : plain).push(s.unitsPerSec);
    if (withEvery) cks.push(...s.checkpoints);
    console.log(`  ${withEvery ? `--every ${everyMs / 1000}s` : 'no checkpoints'}: ${s.unitsPerSec.toFixed(1)} units/s${withEvery ? `, ${s.checkpoints.length} checkpoint(s)` : ''}`);
  }
}
const a = median(plain);
const b = median(periodic);
const frozen = median(cks.map((c) => c.frozenMs ?? NaN));
const wall = median(cks.map((c) => c.wallMs));
console.log(`cryo job, CPU-bound, ${memMiB} MiB, ${seconds} s per side, ${rounds} round(s) (medians)`);
console.log(`  throughput with --every ${everyMs / 1000}s / without: ${(b / a).toFixed(3)} (overhead ${((1 - b / a) * 100).toFixed(1)}%)`);
console.log(`  frozen time per checkpoint: ${frozen.toFixed(1)} ms = ${((frozen / everyMs) * 100).toFixed(2)}% of the period; checkpoint wall time ${wall.toFixed(0)} ms (${((wall / everyMs) * 100).toFixed(1)}% of the period)`);
console.log(`  archive per checkpoint: ${(median(cks.map((c) => c.bytes)) / 2 ** 20).toFixed(1)} MiB of ${(median(cks.map((c) => c.imageBytes)) / 2 ** 20).toFixed(1)} MiB of images`);
