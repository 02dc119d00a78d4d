// Archives against real CRIU: file round trip, a real pipe between two cryo processes, damaged
// archives restore nothing, and killing cryo (SIGTERM, SIGKILL) at any moment of a 256 MiB dump
// loses nothing. Every tree is ended by pid.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { listTree } from '../../src/kernel/process.js';
import { run } from '../../src/kernel/run.js';
import { criuFor } from '../helpers/env.js';
import { assertCliJson } from '../helpers/schema.js';
import { alive, counter, COUNTING_HOLDER, sleep, waitFor } from '../helpers/trees.js';

const cliPath = new URL('../../src/cli/main.js', import.meta.url).pathname;

function state(pid: number): string | undefined {
  try {
    return /^State:\s*(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
interface Tree { pid: number; root: number; count: string }

class Fixture {
  readonly dir: string;
  private roots = new Set<number>();
  constructor(t: TestContext) {
    this.dir = mkdtempSync(join(os.tmpdir(), 'cryo-archive-it-'));
    writeFileSync(join(this.dir, 'holder.py'), COUNTING_HOLDER);
    t.after(() => this.cleanup());
  }
  async start(mib: number, name = 'count'): Promise<Tree> {
    const count = join(this.dir, name);
    const r = await run('python3', [join(this.dir, 'holder.py'), String(mib), count]);
    const root = r.rootPid;
    this.roots.add(root);
    await waitFor(() => counter(count) > 2, 'the test tree to start counting', 30_000);
    return { pid: r.pid, root, count };
  }
  track(root: number): void {
    this.roots.add(root);
  }
  /** Ends every tree this test started or restored, by pid. */
  cleanup(): void {
    for (const root of this.roots) {
      for (const p of listTree(root)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Ran { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cryo(args: string[], onSpawn?: (pid: number) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('spawn', () => onSpawn?.(c.pid!));
    c.on('close', (status, signal) => {
      // every --json output validates against its schema, as through the shared cli() helper
      try {
        assertCliJson(args, { status, stdout });
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** The restored tree counts on from where the dump left it. */
async function assertContinues(count: string, from: number): Promise<void> {
  await waitFor(() => counter(count) > from + 2, `the restored tree to count on past ${from}`);
}

test('archive: dump -o FILE ends the tree only after a valid 0600 archive exists; restore -i continues it', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(16);
  const file = join(f.dir, 'app.ckpt');
  const d = await cryo(['dump', String(tree.pid), '-o', file, '--json']);
  assert.equal(d.status, 0, d.stderr);
  const info = JSON.parse(d.stdout);
  assert.equal(info.tree, 'ended');
  assert.ok(typeof info.stats?.frozen_time === 'number' && info.stats.frozen_time > 0, 'CRIU frozen time reported');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${file}.partial`));
  await waitFor(() => !alive(tree.pid), 'the dumped tree to end');
  const frozenAt = counter(tree.count);
  const v = await cryo(['verify', file]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^ok: /);
  assert.match(v.stdout, /holder\.py/, 'the manifest names the command line');
  const r = await cryo(['restore', '-i', file, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const restored = JSON.parse(r.stdout);
  f.track(restored.rootPid);
  await assertContinues(tree.count, frozenAt);
  // no staging dir of ours is left in RAM
  assert.deepEqual(readdirSync('/dev/shm').filter((n) => n.startsWith('cryo-') && /-(dump|restore)-/.test(n) && !alive(Number(n.split('-')[2]))), []);
});

test('archive: dump -o - --end-after-write | restore -i - through a real pipe between two cryo processes', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(32);
  const sh = `"${process.execPath}" "${cliPath}" dump ${tree.pid} -o - --end-after-write | "${process.execPath}" "${cliPath}" restore -i - --json`;
  const p = await new Promise<Ran>((resolve, reject) => {
    const c = spawn('bash', ['-o', 'pipefail', '-c', sh], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  assert.equal(p.status, 0, p.stderr);
  const restored = JSON.parse(p.stdout);
  f.track(restored.rootPid);
  assert.notEqual(restored.rootPid, tree.root);
  await waitFor(() => !alive(tree.pid), 'the dumped tree to end');
  await assertContinues(tree.count, 0);
});

test('archive: dump -o FILE --leave-running keeps the tree running and writes a valid archive', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(16);
  const file = join(f.dir, 'running.ckpt');
  const d = await cryo(['dump', String(tree.pid), '-o', file, '--leave-running', '--json']);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(JSON.parse(d.stdout).tree, 'running');
  const at = counter(tree.count);
  await waitFor(() => counter(tree.count) > at + 2, 'the tree to keep counting');
  assert.equal((await cryo(['verify', file])).status, 0);
});

// Guards against: "dump -o - into a pipe whose reader never reads ends the tree once the archive fits in the pipe buffer".
test('archive: dump -o - keeps the tree running by default, even when the reader never reads', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(1);
  // a reader that never reads: cryo's write waits (or fits the pipe buffer) while the tree counts on
  const sh = `"${process.execPath}" "${cliPath}" dump ${tree.pid} -o - 2>"${join(f.dir, 'err')}" | { sleep 4; exit 0; }`;
  const c = spawn('bash', ['-c', sh], { stdio: 'ignore' });
  const done = new Promise((res) => c.on('close', res));
  await sleep(1500);
  const at = counter(tree.count);
  await waitFor(() => counter(tree.count) > at + 2, 'the tree to count while the reader does not read', 2000);
  await done;
  assert.ok(alive(tree.pid), readFileSync(join(f.dir, 'err'), 'utf8'));
  const now = counter(tree.count);
  await waitFor(() => counter(tree.count) > now + 2, 'the tree to keep counting');
});

test('archive: a reader that goes away (broken pipe) fails the dump and the tree runs on', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(64);
  const sh = `"${process.execPath}" "${cliPath}" dump ${tree.pid} -o - --end-after-write 2>"${join(f.dir, 'err')}" | head -c 1000 >/dev/null; echo \${PIPESTATUS[0]}`;
  const p = spawnSync('bash', ['-c', sh], { encoding: 'utf8' });
  assert.equal(p.stdout.trim(), '1', readFileSync(join(f.dir, 'err'), 'utf8'));
  assert.match(readFileSync(join(f.dir, 'err'), 'utf8'), /resumed, nothing was lost/);
  assert.ok(alive(tree.pid));
  const at = counter(tree.count);
  await waitFor(() => counter(tree.count) > at + 2, 'the resumed tree to count');
});

test('archive: a flipped byte or a truncated archive is refused with exit 4 and nothing is restored', async (t) => {
  if (!criuFor(t)) return;
  const f = new Fixture(t);
  const tree = await f.start(8);
  const file = join(f.dir, 'app.ckpt');
  const d = await cryo(['dump', String(tree.pid), '-o', file]);
  assert.equal(d.status, 0, d.stderr);
  await waitFor(() => !alive(tree.pid), 'the dumped tree to end');
  const good = readFileSync(file);
  const flipped = Buffer.from(good);
  flipped[Math.floor(good.length * 0.6)] ^= 0x01;
  writeFileSync(join(f.dir, 'flipped.ckpt'), flipped);
  writeFileSync(join(f.dir, 'truncated.ckpt'), good.subarray(0, good.length - 100));
  const before = counter(tree.count);
  for (const bad of ['flipped.ckpt', 'truncated.ckpt']) {
    const v = await cryo(['verify', join(f.dir, bad)]);
    assert.equal(v.status, 4, `${bad}: ${v.stderr}`);
    const r = await cryo(['restore', '-i', join(f.dir, bad)]);
    assert.equal(r.status, 4, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /corrupted|truncated|damaged/);
    assert.equal(r.stdout, '');
  }
  // nothing was restored: the counter stays where the dump froze it
  await sleep(500);
  assert.equal(counter(tree.count), before);
});

// Kills cryo at several moments of a 256 MiB dump; afterwards either a valid archive exists or
// the tree is still there (running, or stopped: then SIGCONT brings it back).
for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`archive: ${signal} to cryo at any moment of a 256 MiB dump loses nothing`, { timeout: 600_000 }, async (t) => {
    if (!criuFor(t)) return;
    const f = new Fixture(t);
    const outcomes: string[] = [];
    for (const delay of [0, 150, 400, 800, 1300, 2000, 3500, 6000]) {
      const tree = await f.start(256, `count-${delay}`);
      const pids = listTree(tree.root);
      const file = join(f.dir, `kill-${delay}.ckpt`);
      let cryoPid = 0;
      const ran = cryo(['dump', String(tree.pid), '-o', file], (p) => (cryoPid = p));
      await waitFor(() => cryoPid > 0, 'cryo to start');
      await sleep(delay);
      const helpers = listTree(cryoPid).slice(1); // criu swrk, if running now
      try {
        process.kill(cryoPid, signal);
      } catch {
        // cryo already finished
      }
      const r = await ran;
      assert.notEqual(r.status, 2, `delay ${delay}: cryo refused its command line: ${r.stderr}`);
      // a CRIU that outlives a SIGKILLed cryo finishes on its own: wait for it
      await waitFor(() => helpers.every((h) => !alive(h)), 'CRIU to finish', 60_000);
      if (existsSync(file)) {
        const v = await cryo(['verify', file]);
        assert.equal(v.status, 0, `delay ${delay}: the archive that exists must be valid: ${v.stderr}`);
        outcomes.push(`${delay}ms: archive`);
        if (r.status === 0) continue; // cryo completed: the tree was ended after the archive
      } else {
        assert.ok(alive(tree.pid), `delay ${delay}: no archive and the tree is gone (cryo ${r.status ?? r.signal}: ${r.stderr})`);
        outcomes.push(`${delay}ms: tree ${state(tree.pid)} (cryo ${r.status ?? r.signal}${r.stderr ? `: ${r.stderr.split('\n')[0]}` : ''})`);
      }
      if (signal === 'SIGTERM') assert.ok(!existsSync(`${file}.partial`), `delay ${delay}: the partial file was left`);
      if (alive(tree.pid)) {
        for (const p of pids) {
          try {
            process.kill(p, 'SIGCONT');
          } catch {
            // gone
          }
        }
        const at = counter(tree.count);
        await waitFor(() => counter(tree.count) > at, `delay ${delay}: the resumed tree to count`);
      }
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    t.diagnostic(outcomes.join(', '));
  });
}
