// Failures through the built CLI: one line + hint on stderr, nothing on stdout, no stack, the
// documented exit code, and a tree that CRIU refused still runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { alive, cli, cliPath, fixturesDir, lines, Trees, waitFor, type CliResult } from '../helpers/trees.js';

/** stderr is exactly "cryo: error: ..." + "hint: ...", stdout empty, no stack trace. */
function assertCleanFailure(r: CliResult, exitCode: number, message: RegExp): void {
  assert.equal(r.status, exitCode, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const err = r.stderr.trimEnd().split('\n');
  assert.equal(err.length, 2, `two lines on stderr, got: ${r.stderr}`);
  assert.match(err[0], /^cryo: error: /);
  assert.match(err[0], message);
  assert.match(err[1], /^hint: \S/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

function missingPid(): number {
  const taken = new Set(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number));
  let p = 4_000_000;
  while (taken.has(p)) p--;
  return p;
}

test('dump of a missing pid: exit 1, one clear line', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const pid = missingPid();
  const dir = join(trees.dir(), 'ckpt');
  assertCleanFailure(await cli(['dump', String(pid), '-D', dir]), 1, new RegExp(`no process with pid ${pid}$`));
  assert.ok(!existsSync(dir), 'nothing written');
});

test('dump of a non-numeric pid: usage error, exit 2', async () => {
  assertCleanFailure(await cli(['dump', 'abc', '-D', '/tmp/never']), 2, /expected a positive integer pid, got 'abc'$/);
  assertCleanFailure(await cli(['dump', '-5', '-D', '/tmp/never']), 2, /./);
  assertCleanFailure(await cli(['dump', '12', '-D', '/tmp/never', '--ghost-limit', 'lots']), 2, /--ghost-limit.*got 'lots'$/);
  assertCleanFailure(await cli(['dump', '12', '-D', '/tmp/never', '-v', '9']), 2, /log level from 0 to 4, got '9'$/);
});

test('restore from a missing, an empty, a non-checkpoint or an incomplete directory: exit 1 or 4', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const base = trees.dir();
  assertCleanFailure(await cli(['restore', '-D', join(base, 'nope')]), 1, /no checkpoint at .*nope: no such directory$/);
  mkdirSync(join(base, 'empty'));
  assertCleanFailure(await cli(['restore', '-D', join(base, 'empty')]), 1, /the directory is empty$/);
  mkdirSync(join(base, 'other'));
  writeFileSync(join(base, 'other', 'notes.txt'), 'hi');
  assertCleanFailure(await cli(['restore', '-D', join(base, 'other')]), 1, /holds no CRIU images$/);
  mkdirSync(join(base, 'half'));
  writeFileSync(join(base, 'half', 'core-1.img'), Buffer.alloc(8));
  assertCleanFailure(await cli(['restore', '-D', join(base, 'half')]), 4, /incomplete/);
});

test('a dump CRIU refuses (established TCP without --tcp-established): exit 1, the tree still runs', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start(process.execPath, [join(fixturesDir, 'tcp-pair.mjs'), out]);
  await waitFor(() => lines(out).length >= 2, 'the connection to tick');
  const ckpt = join(dir, 'ckpt');
  const r = await cli(['dump', String(pid), '-D', ckpt]);
  assertCleanFailure(r, 1, /^cryo: error: dump failed: .*TCP.*\(the tree still runs\)$/);
  assert.match(r.stderr, /hint: .*--tcp-established.*log: /);
  // no checkpoint left behind: only CRIU's log, where CRIU users look for it
  assert.deepEqual(readdirSync(ckpt), ['dump.log']);
  assert.match(r.stderr, new RegExp(`log: ${join(ckpt, 'dump.log')}`));
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('cryo-tmp')), [], 'no temp dir left');
  assert.ok(alive(pid));
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 3, 'the refused tree to keep ticking');
});

test('an existing checkpoint is not overwritten without --force', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const { pid } = await trees.start('sh', ['-c', 'while :; do echo x >> "$1"; sleep 0.05; done', 'tick', out]);
  await waitFor(() => lines(out).length >= 2, 'ticks');
  const ckpt = join(dir, 'ckpt');
  const first = await cli(['dump', String(pid), '-D', ckpt, '--leave-running']);
  assert.equal(first.status, 0, first.stderr);
  assertCleanFailure(await cli(['dump', String(pid), '-D', ckpt, '--leave-running']), 1, /already holds a checkpoint$/);
  assert.ok(alive(pid));
  const forced = await cli(['dump', String(pid), '-D', ckpt, '--force', '--json']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).tree, 'ended');
  assert.ok(existsSync(join(ckpt, 'cryo.json')));
});

test('restore of a damaged checkpoint: exit 4 (a truncated image, a missing image)', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const { pid } = await trees.start('sleep', ['1000']);
  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(pid), '-D', ckpt]);
  assert.equal(d.status, 0, d.stderr);
  cpSync(ckpt, join(dir, 'missing'), { recursive: true });
  const core = readdirSync(ckpt).find((n) => /^core-\d+\.img$/.test(n))!;
  truncateSync(join(ckpt, core), 10);
  // caught before CRIU runs: the codec names the damaged image
  assertCleanFailure(await cli(['restore', '-D', ckpt]), 4, /^cryo: error: .*core-\d+\.img: truncated/);
  const mm = readdirSync(join(dir, 'missing')).find((n) => /^mm-\d+\.img$/.test(n))!;
  rmSync(join(dir, 'missing', mm));
  assertCleanFailure(await cli(['restore', '-D', join(dir, 'missing')]), 4, new RegExp(`incomplete: ${mm} missing$`));
});

// A terminal's Ctrl-C reaches the whole foreground process group: cryo and the CRIU it started. CRIU
// killed in the middle of a dump loses the tree (seen before CRIU was shielded), so CRIU finishes; cryo
// then discards the images, resumes the tree and exits 128+2: the dump never happened.
test('Ctrl-C to the process group in the middle of a dump: the tree runs on, nothing is written, exit 130', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const out = join(dir, 'out');
  const holder = 'const b = Buffer.alloc(256 << 20, 1); let n = 0; setInterval(() => { b[n % b.length] = 2; require("fs").appendFileSync(process.argv[1], `${++n}\\n`); }, 50)';
  const { pid } = await trees.start(process.execPath, ['-e', holder, out]);
  await waitFor(() => lines(out).length >= 2, 'the holder to tick');
  const ckpt = join(dir, 'ckpt');
  // cryo leads its own process group, as a foreground job of a terminal does
  const cryo = spawn(process.execPath, [cliPath, 'dump', String(pid), '-D', ckpt], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  cryo.stderr!.on('data', (d) => (stderr += d));
  const status = new Promise<number | null>((res) => cryo.on('close', (code) => res(code)));
  // once CRIU runs, Ctrl-C: SIGINT to every process of the group
  await waitFor(() => readFileSync(`/proc/${cryo.pid}/task/${cryo.pid}/children`, 'utf8').trim(), 'criu to start', 30_000);
  process.kill(-cryo.pid!, 'SIGINT');
  assert.equal(await status, 130, stderr);
  assert.match(stderr, /SIGINT received; stopping cleanly/);
  assert.match(stderr, /^cryo: error: interrupted; no checkpoint was written$/m);
  assert.ok(!existsSync(ckpt), `no checkpoint: ${stderr}`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('cryo-tmp')), [], 'no temp dir left');
  assert.ok(alive(pid), 'the tree runs on');
  const n = lines(out).length;
  await waitFor(() => lines(out).length >= n + 2, 'the holder to tick on');
});
