// State that must go on after dump + restore: threads, an open file's offset, a shared mapping,
// queued socketpair data, a listening TCP socket. The trees come from test/fixtures.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { dump } from '../../src/pipeline/dump.js';
import { restore } from '../../src/pipeline/restore.js';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { alive, compileFixture, fixturesDir, lines, Trees, waitFor } from '../helpers/trees.js';

/** Dumps the tree of `pid` into DIR/ckpt, checks it ended, restores it; returns the restored pid. */
async function cycle(trees: Trees, pid: number, dir: string, opts: { tcpEstablished?: boolean } = {}): Promise<number> {
  const d = await dump(pid, join(dir, 'ckpt'), opts);
  assert.equal(d.tree, 'ended');
  assert.ok(!alive(pid), 'the dumped tree ended');
  const r = await restore(join(dir, 'ckpt'));
  trees.track(r.rootPid);
  assert.ok(alive(r.pid));
  return r.pid;
}

function stateBinary(t: TestContext, trees: Trees): string | undefined {
  const bin = compileFixture('state.c', trees.dir(), ['-pthread']);
  return requireOrSkip(t, bin !== undefined, 'gcc is needed to build the C fixture') ? bin : undefined;
}

/** Numbers of the last line of OUT with the given tag. */
function last(out: string, tag: string): number[] {
  const l = lines(out).filter((x) => x.startsWith(`${tag} `)).pop();
  assert.ok(l, `no ${tag} line yet in ${out}`);
  return l.split(' ').slice(1).map(Number);
}

test('a multi-threaded C process: every thread counts on from its own count', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const bin = stateBinary(t, trees);
  if (!bin) return;
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start(bin, ['threads', out]);
  await waitFor(() => lines(out).length >= 3, 'threads to count');
  assert.equal(readdirSync(`/proc/${pid}/task`).length, 5);
  await cycle(trees, pid, dir);
  const before = last(out, 'threads');
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 3, 'the restored threads to count on');
  const after = last(out, 'threads');
  after.forEach((c, i) => assert.ok(c > before[i] && c < before[i] + 1000, `thread ${i}: ${before[i]} -> ${c}`));
});

test('a multi-threaded Node process (worker_threads) counts on', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start(process.execPath, [join(fixturesDir, 'workers.mjs'), out]);
  await waitFor(() => lines(out).length >= 3 && last(out, 'workers')[0] > 20, 'workers to count');
  await cycle(trees, pid, dir);
  const before = last(out, 'workers');
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 3, 'the restored workers to count on');
  const after = last(out, 'workers');
  after.forEach((c, i) => assert.ok(c > before[i] && c < before[i] + 1000, `worker ${i}: ${before[i]} -> ${c}`));
});

test('an open file keeps its offset and a MAP_SHARED file mapping its contents', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const bin = stateBinary(t, trees);
  if (!bin) return;
  const dir = trees.dir();
  const out = join(dir, 'out');
  const data = join(dir, 'data');
  const map = join(dir, 'map');
  const alphabet = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
  writeFileSync(data, alphabet);
  writeFileSync(map, Buffer.alloc(4096));
  const { pid } = await trees.start(bin, ['files', data, map, out]);
  await waitFor(() => lines(out).length >= 4, 'the reader to read');
  await cycle(trees, pid, dir);
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 4, 'the restored reader to read on');
  // every line: the byte at offset-1, the offset, the shared counter; no restart, no gap
  lines(out).forEach((l, i) => {
    const [ch, off, counter] = l.split(' ').slice(1).map(Number);
    assert.equal(off, i + 1, `line ${i + 1}: offset ${off}`);
    assert.equal(String.fromCharCode(ch), alphabet[off - 1]);
    assert.equal(counter, i + 1, `line ${i + 1}: shared counter ${counter}`);
  });
  // the mapping is the file: its counter is on disk too
  const onDisk = readFileSync(map).readBigUInt64LE(0);
  assert.ok(Number(onDisk) >= n + 4);
});

test('a unix socketpair keeps its queued messages', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const bin = stateBinary(t, trees);
  if (!bin) return;
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start(bin, ['socketpair', out]);
  await waitFor(() => lines(out).length >= 3, 'messages to flow');
  await cycle(trees, pid, dir);
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 10, 'the restored pair to deliver the queue and more');
  // received 0, 1, 2, ... in order: the 8 messages queued at dump time came back
  lines(out).forEach((l, i) => {
    const [got, next] = l.split(' ').slice(1).map(Number);
    assert.equal(got, i, `message ${i} arrived as ${got}`);
    assert.equal(next, i + 8);
  });
});

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', reject);
  });
}

test('a Node.js HTTP server: restored, it answers on its port with its counter intact', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const portFile = join(dir, 'port');
  const { pid } = await trees.start(process.execPath, [join(fixturesDir, 'counter-server.mjs'), portFile]);
  const port = Number(await waitFor(() => lines(portFile)[0], 'the server to listen'));
  for (let i = 1; i <= 3; i++) assert.equal(await httpGet(port), String(i));
  await cycle(trees, pid, dir);
  assert.equal(await httpGet(port), '4');
  assert.equal(await httpGet(port), '5');
});

test('--tcp-established: an established connection survives, with the network lock cryo picks', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start(process.execPath, [join(fixturesDir, 'tcp-pair.mjs'), out]);
  await waitFor(() => lines(out).length >= 2, 'the connection to tick');
  await cycle(trees, pid, dir, { tcpEstablished: true });
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 3, 'the restored connection to tick on');
  // the writes over the restored connection did not fail: ticks count on without restarting
  lines(out).forEach((l, i) => assert.equal(l, `tick ${i + 1}`));
});
