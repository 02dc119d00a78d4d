// bench:archive's registry section, against curl on the same registry (Debian's docker-registry on
// 127.0.0.1, filesystem storage):
//   push: cryo's chunked push of a checkpoint's images (what dump -o oci:// does at commit) vs
//         curl uploading the same checkpoint's archive file as one blob (POST + PUT)
//   pull: cryo's verified pull into a staging dir vs curl GET of that blob
//   the second push of a slightly changed checkpoint of the same tree: bytes sent vs the first's
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../src/checkpoint/open.js';
import { pullCheckpoint } from '../src/checkpoint/oci-pull.js';
import { pushCheckpoint } from '../src/checkpoint/oci-push.js';
import { parseOciRef } from '../src/checkpoint/oci-ref.js';
import { humanBytes } from '../src/cli/render/text.js';
import { listTree } from '../src/kernel/process.js';
import { run } from '../src/kernel/run.js';
import { dump } from '../src/pipeline/dump.js';
import { hasTool, REGISTRY_BIN, startRegistry } from '../test/helpers/registry.js';

// random memory, of which one 64 KiB slice is rewritten every 0.1 s: a slowly changing tree
const HOLDER = `
import os, sys, time
n = int(sys.argv[1])
a = bytearray(os.urandom(n << 20))
open(sys.argv[2], 'w').write('ready')
while True:
    o = int.from_bytes(os.urandom(4), 'little') % ((n << 20) - 65536)
    a[o:o + 65536] = os.urandom(65536)
    time.sleep(0.1)
`;

type Row = (label: string, c: string, peer: string, ratio: number, note?: string) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function curl(args: string[]): string {
  const r = spawnSync('curl', ['-sS', '--fail', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`curl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const rate = (bytes: number, ms: number) => `${(bytes / (1 << 20) / (ms / 1000)).toFixed(0)} MiB/s`;

export async function benchRegistry(work: string, mib: number, row: Row): Promise<void> {
  if (!hasTool(REGISTRY_BIN) || !hasTool('/usr/bin/curl')) {
    console.log(`registry: skipped (${REGISTRY_BIN} or curl missing; scripts/test-tools.mjs installs Debian's docker-registry)`);
    return;
  }
  const reg = await startRegistry();
  const dir = mkdtempSync(join(work, 'registry-'));
  let root: number | undefined;
  try {
    writeFileSync(join(dir, 'holder.py'), HOLDER);
    const readyFile = join(dir, 'ready');
    const r = await run('python3', [join(dir, 'holder.py'), String(mib), readyFile], { pidns: false });
    root = r.rootPid;
    for (let i = 0; i < 600 && !existsSync(readyFile); i++) await sleep(50);
    const a = join(dir, 'a.ckpt');
    const b = join(dir, 'b.ckpt');
    await dump(r.pid, { archive: a }, { leaveRunning: true });
    await sleep(1000);
    await dump(r.pid, { archive: b }, { leaveRunning: true });

    const ref1 = parseOciRef(`oci://${reg.host}/bench/app:one`);
    const ref2 = parseOciRef(`oci://${reg.host}/bench/app:two`);
    const opened = await openCheckpoint({ archive: a });
    const t0 = performance.now();
    const p1 = await pushCheckpoint(opened.dir, opened.meta!, ref1);
    const pushMs = performance.now() - t0;
    await opened.close();

    // curl: the archive file as one blob, monolithic PUT after POST
    const digest = await sha256File(a);
    const archiveBytes = statSync(a).size;
    const t1 = performance.now();
    const headers = curl(['-X', 'POST', '-D', '-', '-o', '/dev/null', `http://${reg.host}/v2/bench/curl/blobs/uploads/`]);
    const loc = /^location:\s*(\S+)/im.exec(headers)![1];
    const url = new URL(loc, `http://${reg.host}`);
    url.searchParams.set('digest', digest);
    curl(['-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '-T', a, '-o', '/dev/null', url.toString()]);
    const curlPushMs = performance.now() - t1;

    const pullDir = mkdtempSync(join(dir, 'pull-'));
    const t2 = performance.now();
    const pulled = await pullCheckpoint(ref1, pullDir);
    const pullMs = performance.now() - t2;
    const t3 = performance.now();
    curl(['-o', '/dev/null', `http://${reg.host}/v2/bench/curl/blobs/${digest}`]);
    const curlPullMs = performance.now() - t3;

    const opened2 = await openCheckpoint({ archive: b });
    const p2 = await pushCheckpoint(opened2.dir, opened2.meta!, ref2);
    await opened2.close();

    console.log(`registry: ${humanBytes(p1.imageBytes)} of images in ${p1.blobs} chunks (${humanBytes(p1.blobBytes)}), archive ${humanBytes(archiveBytes)}; rates are compressed bytes on the wire`);
    row('push (cryo chunks vs curl 1 blob)', rate(p1.uploadedBytes, pushMs), rate(archiveBytes, curlPushMs), (p1.uploadedBytes / pushMs) / (archiveBytes / curlPushMs), `(${pushMs.toFixed(0)} ms vs ${curlPushMs.toFixed(0)} ms)`);
    row('pull (cryo verified vs curl GET)', rate(pulled.bytes, pullMs), rate(archiveBytes, curlPullMs), (pulled.bytes / pullMs) / (archiveBytes / curlPullMs), `(${pullMs.toFixed(0)} ms vs ${curlPullMs.toFixed(0)} ms)`);
    row('second push (sent vs first push)', humanBytes(p2.uploadedBytes), humanBytes(p1.uploadedBytes), p2.uploadedBytes / p1.uploadedBytes, `(${p2.uploadedBlobs} of ${p2.blobs} chunks changed, 1 s later)`);
  } finally {
    if (root !== undefined) for (const p of listTree(root)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
