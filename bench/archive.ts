// bench:archive — one run, ratios against bare criu:
//   CRIU's frozen time: cryo dump -o FILE (RAM staging, leave_stopped) vs `criu dump -D DIR` on disk
//   archive size vs raw images
//   restore: cryo restore -i FILE vs `criu restore -D DIR`
//   zstd: libzstd through koffi (the archive's framed, parallel way) vs the zstd program, on the same images
//   registry: push and pull against curl, and the second push's size (bench/registry.ts)
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from '../src/pipeline/dump.js';
import { humanBytes } from '../src/cli/render/text.js';
import { restore } from '../src/pipeline/restore.js';
import { readStats } from '../src/checkpoint/stats.js';
import { listTree } from '../src/kernel/process.js';
import { zstdCompress, zstdCompressFrames, zstdDecompress, zstdDecompressFrames } from '../src/checkpoint/zstd.js';
import { findCriu } from '../src/criu/find.js';
import { startPyHolder } from './holders.js';
import { benchRegistry } from './registry.js';

const MIB = Number(process.env.BENCH_ARCHIVE_MIB ?? 1024);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gone(pid: number): boolean {
  try {
    const st = statSync(`/proc/${pid}`);
    return !st;
  } catch {
    return true;
  }
}

function startHolder(work: string, name: string): Promise<number> {
  return startPyHolder(work, MIB, name);
}

function kill(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500 && !gone(pid); i++) await sleep(10);
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

async function* files(dir: string): AsyncGenerator<Buffer> {
  for (const n of readdirSync(dir).sort()) for await (const c of createReadStream(join(dir, n), { highWaterMark: 1 << 20 })) yield c as Buffer;
}

async function drain(it: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

async function* replay(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function main(): Promise<void> {
  const criu = findCriu();
  // on disk, as a user's checkpoint directory would be
  const work = mkdtempSync('/var/tmp/cryo-bench-archive-');
  const pids: number[] = [];
  try {
    console.log(`bench:archive — a process holding ${MIB} MiB (half random, half text), CRIU ${criu.version}`);

    const TRIALS = Number(process.env.BENCH_ARCHIVE_TRIALS ?? 4); // even: each side goes first as often
    const bareDir = join(work, 'bare');
    const archive = join(work, 'app.ckpt');
    const bare = { frozen: [] as number[], dump: [] as number[], restore: [] as number[] };
    const cryo = { frozen: [] as number[], dump: [] as number[], restore: [] as number[], crMs: [] as number[], writeMs: [] as number[], extractMs: [] as number[], criuRestoreMs: [] as number[] };
    let rawBytes = 0;
    let archiveBytes = 0;
    // interleave the two so that machine noise hits both alike; report medians
    for (let trial = 0; trial < TRIALS; trial++) {
      // which side goes first alternates: a dump right after another 1 GiB dump and restore was seen to
      // freeze up to 2-3x longer here, whichever tool ran it
      const bareTrial = async () => {
        // bare criu: dump to a directory on disk, then restore from it
        rmSync(bareDir, { recursive: true, force: true });
        mkdirSync(bareDir);
        const p1 = await startHolder(work, `bare${trial}`);
        pids.push(p1);
        spawnSync('sync'); // no writeback of the previous trial's files during this dump
        const [d1, bareDumpMs] = await time(async () => spawnSync(criu.path, ['dump', '-t', String(p1), '-D', bareDir, '-o', 'dump.log'], { stdio: 'ignore' }));
        if (d1.status !== 0) throw new Error(`bare criu dump failed, see ${bareDir}/dump.log`);
        const bareStats = readStats(bareDir).dump;
        rawBytes = dirBytes(bareDir);
        await waitGone(p1);
        const [r1, bareRestoreMs] = await time(async () => spawnSync(criu.path, ['restore', '-D', bareDir, '-d', '-o', 'restore.log'], { stdio: 'ignore' }));
        if (r1.status !== 0) throw new Error(`bare criu restore failed, see ${bareDir}/restore.log`);
        kill(listTree(p1));
        await waitGone(p1);
        bare.frozen.push((bareStats?.frozen_time ?? NaN) / 1000);
        bare.dump.push(bareDumpMs);
        bare.restore.push(bareRestoreMs);
      };
      const cryoTrial = async () => {
        // cryo: dump to an archive on disk, then restore from it
        rmSync(archive, { force: true });
        const p2 = await startHolder(work, `cryo${trial}`);
        pids.push(p2);
        spawnSync('sync');
        const [d2, cryoDumpMs] = await time(() => dump(p2, { archive }));
        await waitGone(p2);
        const [r2, cryoRestoreMs] = await time(() => restore({ archive }));
        pids.push(r2.rootPid);
        kill(listTree(r2.rootPid));
        await waitGone(r2.rootPid);
        archiveBytes = 'bytes' in d2 ? d2.bytes : 0;
        cryo.frozen.push((d2.stats?.frozen_time ?? NaN) / 1000);
        cryo.dump.push(cryoDumpMs);
        cryo.crMs.push(d2.criuMs);
        cryo.writeMs.push(d2.commitMs);
        cryo.restore.push(cryoRestoreMs);
        cryo.extractMs.push(r2.prepareMs);
        cryo.criuRestoreMs.push(r2.criuMs);
      };
      if (trial % 2 === 0) {
        await bareTrial();
        await cryoTrial();
      } else {
        await cryoTrial();
        await bareTrial();
      }
      console.log(`  trial ${trial + 1}: frozen ${cryo.frozen.at(-1)!.toFixed(0)} ms (cryo) vs ${bare.frozen.at(-1)!.toFixed(0)} ms (bare criu)`);
    }

    // zstd: libzstd through koffi against the zstd program, same input (the bare images)
    const [libOut, libMs] = await time(async () => {
      const out: Buffer[] = [];
      for await (const c of zstdCompressFrames(files(bareDir), { level: 3 })) out.push(c);
      return out;
    });
    const [progOut, progMs] = await time(async () => {
      const out: Buffer[] = [];
      for await (const c of zstdCompress(files(bareDir), { level: 3, backend: 'program' })) out.push(c);
      return out;
    });
    const [, libDMs] = await time(() => drain(zstdDecompressFrames(replay(libOut), { maxBytes: Number.MAX_SAFE_INTEGER })));
    const [, progDMs] = await time(() => drain(zstdDecompress(replay(libOut), { backend: 'program' })));
    const [, seqDMs] = await time(() => drain(zstdDecompress(replay(libOut))));
    const size = (b: Buffer[]) => b.reduce((s, x) => s + x.length, 0);

    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const bareFrozen = med(bare.frozen);
    const cryoFrozen = med(cryo.frozen);
    const row = (label: string, c: string, peer: string, ratio: number, note = '') =>
      console.log(`${label.padEnd(34)} ${c.padStart(12)} ${peer.padStart(12)} ${ratio.toFixed(2).padStart(7)}x ${note}`);
    console.log(`medians of ${TRIALS} alternating trials:`);
    console.log(`${''.padEnd(34)} ${'cryo'.padStart(12)} ${'peer'.padStart(12)} ${'ratio'.padStart(8)}`);
    row('CRIU frozen time (archive vs dir)', `${cryoFrozen.toFixed(0)} ms`, `${bareFrozen.toFixed(0)} ms`, cryoFrozen / bareFrozen, `(goal <= 0.50x: ${cryoFrozen / bareFrozen <= 0.5 ? 'met' : 'NOT met'})`);
    row('whole dump wall time', `${med(cryo.dump).toFixed(0)} ms`, `${med(bare.dump).toFixed(0)} ms`, med(cryo.dump) / med(bare.dump), `(cryo: ${med(cryo.crMs).toFixed(0)} ms CRIU + ${med(cryo.writeMs).toFixed(0)} ms archive, tree stopped not frozen)`);
    row('size (archive vs raw images)', humanBytes(archiveBytes), humanBytes(rawBytes), archiveBytes / rawBytes);
    row('restore (archive vs dir)', `${med(cryo.restore).toFixed(0)} ms`, `${med(bare.restore).toFixed(0)} ms`, med(cryo.restore) / med(bare.restore), `(cryo: ${med(cryo.extractMs).toFixed(0)} ms verify+extract + ${med(cryo.criuRestoreMs).toFixed(0)} ms CRIU)`);
    row('zstd -3 compress (lib vs program)', `${libMs.toFixed(0)} ms`, `${progMs.toFixed(0)} ms`, libMs / progMs, `(${humanBytes(size(libOut))} vs ${humanBytes(size(progOut))})`);
    row('zstd decompress (lib vs program)', `${libDMs.toFixed(0)} ms`, `${progDMs.toFixed(0)} ms`, libDMs / progDMs, `(frames in parallel; one frame after another: ${seqDMs.toFixed(0)} ms)`);
    await benchRegistry(work, Number(process.env.BENCH_REGISTRY_MIB ?? Math.min(MIB, 256)), row);
  } finally {
    kill(pids);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
