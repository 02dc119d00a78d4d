// Restores that must never hang, leak or run a planted tree, against real CRIU. Each case is named
// after the failure it guards against (issue "Trust"). Every tree is ended by pid.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, chmodSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { encodeHeader, encodeRecord, TAG_FILE } from '../../src/checkpoint/archive-format.js';
import { zstdCompress } from '../../src/checkpoint/zstd.js';
import { listTree } from '../../src/kernel/process.js';
import { writeTestArchive } from '../helpers/archive.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, cliPath, lines, sleep, Trees, waitFor } from '../helpers/trees.js';

/** The pages file a task's pagemap names: the largest pages-*.img. */
function biggestPages(dir: string): string {
  return readdirSync(dir).filter((n) => /^pages-\d+\.img$/.test(n)).sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!;
}

/** Processes whose command line names `needle` (a test's private path). */
function runningWith(needle: string): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(needle) && alive(p);
    } catch {
      return false;
    }
  });
}

const out = (dir: string) => join(dir, 'out');

async function dumpTicker(trees: Trees, dir: string, extra: string[] = []): Promise<{ ckpt: string; out: string }> {
  const out = join(dir, 'out');
  const { pid } = await trees.start('sh', ['-c', 'while :; do echo x >> "$1"; sleep 0.05; done', 'tick', out]);
  await waitFor(() => lines(out).length >= 2, 'ticks');
  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(pid), '-D', ckpt, ...extra]);
  assert.equal(d.status, 0, d.stderr);
  return { ckpt, out };
}

for (const variant of ['short', 'empty', 'FIFO', 'symlinked'] as const) {
  test(`trust: ${variant === 'empty' ? 'an' : 'a'} ${variant} pages file makes restore exit 4 within seconds, before CRIU runs (it used to hang for good)`, async (t) => {
    if (!criuFor(t)) return;
    const trees = new Trees();
    t.after(() => trees.cleanup());
    const dir = trees.dir();
    const { ckpt } = await dumpTicker(trees, dir);
    const pages = join(ckpt, biggestPages(ckpt));
    const size = statSync(pages).size;
    if (variant === 'short') truncateSync(pages, size - 4096);
    if (variant === 'empty') truncateSync(pages, 0);
    if (variant === 'FIFO') {
      rmSync(pages);
      assert.equal(spawnSync('mkfifo', [pages]).status, 0);
    }
    if (variant === 'symlinked') {
      writeFileSync(join(dir, 'other'), Buffer.alloc(size));
      rmSync(pages);
      symlinkSync(join(dir, 'other'), pages);
    }
    const t0 = Date.now();
    const r = await cli(['restore', '-D', ckpt], { timeoutMs: 30_000 });
    assert.equal(r.status, 4, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    assert.match(r.stderr, /incomplete|damaged/);
    assert.deepEqual(runningWith(out(dir)), [], 'nothing restored runs');
  });
}

test('trust: a short pages file inside a fully verified archive makes restore -i exit 4, before CRIU runs', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt } = await dumpTicker(trees, dir);
  const pages = join(ckpt, biggestPages(ckpt));
  truncateSync(pages, statSync(pages).size - 4096);
  rmSync(join(ckpt, 'cryo.json'));
  const archive = join(dir, 'short.ckpt');
  await writeTestArchive(ckpt, archive);
  assert.equal((await cli(['verify', archive])).status, 0, 'every sha256 of the archive matches');
  const r = await cli(['restore', '-i', archive], { timeoutMs: 30_000 });
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /wrong size/);
});

test('trust: an archive that declares 1000 bytes and inflates to 1 GiB is refused before more than the declared size is written', async (t) => {
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const staging = join(dir, 'staging');
  mkdirSync(staging, { mode: 0o700 });
  const declared = 1000;
  const meta = {
    format: 'cryo-checkpoint', version: 2, createdAt: new Date().toISOString(), cryo: { version: 'test' }, criu: { version: '4.2.1' },
    host: { hostname: 'test', kernel: '6.0', arch: 'x64' },
    tree: { pid: 1, rootPid: 1, pidns: false, netns: false, processes: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: 1 }] },
    restoreOptions: {}, dumpOptions: {}, compression: { algorithm: 'zstd', level: 1 }, hashes: true,
    files: [{ name: 'inventory.img', size: declared, sha256: createHash('sha256').update(Buffer.alloc(declared)).digest('hex') }], totalBytes: declared,
  };
  const manifest = Buffer.from(JSON.stringify(meta));
  async function* body(): AsyncGenerator<Buffer> {
    yield encodeRecord(TAG_FILE, { name: 'inventory.img', size: declared });
    const mib = Buffer.alloc(1 << 20);
    for (let i = 0; i < 1024; i++) yield mib;
  }
  const bomb = join(dir, 'bomb.ckpt');
  const fd = openSync(bomb, 'wx', 0o600);
  writeSync(fd, Buffer.concat([encodeHeader(manifest), manifest]));
  for await (const c of zstdCompress(body(), { level: 1 })) writeSync(fd, c);
  closeSync(fd);
  assert.ok(statSync(bomb).size < 1 << 20, `a small archive (${statSync(bomb).size} bytes)`);
  for (const args of [['verify', bomb], ['restore', '-i', bomb]]) {
    const t0 = Date.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, cliPath, ...args], { encoding: 'utf8', env: { ...process.env, CRYO_STAGING: staging } });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /more data than its manifest declares|expected the end record/);
    const rss = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1]) * 1024;
    assert.ok(rss < 400 << 20, `${args[0]}: peak memory ${rss} bytes: the bomb was inflated`);
    assert.ok(Date.now() - t0 < 20_000);
    assert.deepEqual(readdirSync(staging), [], 'nothing left in the staging dir');
  }
});

test('trust: a read-only checkpoint (a read-only bind mount) restores, and restore writes nothing into it', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt, out: o } = await dumpTicker(trees, dir);
  const before = readdirSync(ckpt).sort();
  // a mount namespace of the test's own: the bind mount never shows outside it
  const sh = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && touch "$1/probe" 2>/dev/null && echo writable; exec "${process.execPath}" "${cliPath}" restore -D "$1" --json`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, 'sh', ckpt], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /^writable/, 'the mount is read-only');
  const res = JSON.parse(r.stdout);
  trees.track(res.rootPid);
  assert.ok(res.stats, 'the restore statistics are reported');
  assert.deepEqual(readdirSync(ckpt).sort(), before, 'nothing was written into the checkpoint');
  const n = lines(o).length;
  await waitFor(() => lines(o).length > n + 2, 'the restored tree to tick');
});

test('trust: a directory records a sha256 per image after the tree ended; verify and restore -D refuse a flipped byte', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt } = await dumpTicker(trees, dir);
  const meta = JSON.parse(readFileSync(join(ckpt, 'cryo.json'), 'utf8'));
  assert.equal(meta.hashes, true);
  assert.ok(meta.files.every((f: { sha256?: string }) => /^[0-9a-f]{64}$/.test(f.sha256 ?? '')));
  assert.equal((await cli(['verify', ckpt])).status, 0);
  const pages = join(ckpt, biggestPages(ckpt));
  const b = readFileSync(pages);
  b[100] ^= 1;
  writeFileSync(pages, b);
  for (const args of [['verify', ckpt], ['restore', '-D', ckpt]]) {
    const r = await cli(args);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /does not match its sha256/);
  }
});

test('trust: a checkpoint under a parent everyone can write (no sticky bit) is refused: another user could swap it', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt } = await dumpTicker(trees, dir);
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  cpSync(ckpt, join(open, 'ckpt'), { recursive: true });
  const r = await cli(['restore', '-D', join(open, 'ckpt')]);
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /refusing the checkpoint.*writable by everyone/);
});

// Holds 256 MiB and counts: its restore takes long enough to be cut.
const HOLDER = `
import os, sys, time
a = bytearray(os.urandom(64 << 20)); b = bytearray(b'x' * (192 << 20))
i = 0
while True:
    i += 1
    with open(sys.argv[1] + '.tmp', 'w') as f: f.write(str(i))
    os.rename(sys.argv[1] + '.tmp', sys.argv[1])
    time.sleep(0.05)
`;

async function dumpHolder(trees: Trees, dir: string): Promise<{ ckpt: string; count: string; script: string }> {
  const script = join(dir, 'holder.py');
  writeFileSync(script, HOLDER);
  const count = join(dir, 'count');
  const { pid } = await trees.start('python3', [script, count]);
  await waitFor(() => existsSync(count), 'the holder to count', 30_000);
  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(pid), '-D', ckpt]);
  assert.equal(d.status, 0, d.stderr);
  return { ckpt, count, script };
}

test('trust: --restore-timeout kills CRIU and the half-restored tasks; nothing is left running', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt, count, script } = await dumpHolder(trees, dir);
  // -W: the timed-out restore keeps its log (the error names it), in the test's own dir
  // 50 ms: within CRIU's restore of the 256 MiB holder (since the CPU check runs before the watchdog
  // starts, 150 ms was sometimes enough for the whole restore)
  const r = await cli(['restore', '-D', ckpt, '--restore-timeout', '50', '-W', trees.dir()], { timeoutMs: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /restore timed out: CRIU had not finished after 50 ms/);
  await sleep(300);
  assert.deepEqual(runningWith(script), [], 'no restored task runs');
  const at = readFileSync(count, 'utf8');
  await sleep(300);
  assert.equal(readFileSync(count, 'utf8'), at, 'nobody counts');
});

test('trust: SIGTERM during CRIU\'s restore aborts it cleanly (exit 143), nothing is left running', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { ckpt, script } = await dumpHolder(trees, dir);
  const c = spawn(process.execPath, [cliPath, 'restore', '-D', ckpt], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  c.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((res) => c.on('close', res));
  // CRIU is at work once cryo has a criu child
  await waitFor(() => listTree(c.pid!).length > 1, 'CRIU to start', 20_000);
  await sleep(50);
  process.kill(c.pid!, 'SIGTERM');
  const code = await done;
  assert.equal(code, 143, stderr);
  assert.match(stderr, /interrupted during the restore/);
  await sleep(300);
  assert.deepEqual(runningWith(script), [], 'no restored task runs');
});
