// cryo run: a tree ready for checkpointing: pid alone on stdout, own session, stdio on /dev/null or
// the log, no descriptor inherited from the caller, --env and --cwd honoured.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readProcess } from '../../src/kernel/process.js';
import { isRoot, requireOrSkip } from '../helpers/env.js';
import { cli, cliPath, lines, rootOf, Trees, waitFor } from '../helpers/trees.js';

/** Runs the CLI with extra open descriptors at fds 3 and 4, as shells and CI runners leave them. */
function cliWithLeakedFds(args: string[], file: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const a = openSync(file, 'a');
  const b = openSync('/dev/null', 'r');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe', a, b] });
    closeSync(a);
    closeSync(b);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('cryo run: pid alone, own session, only stdio open, env/cwd/log honoured', async (t) => {
  if (!requireOrSkip(t, isRoot(), 'cryo run starts a PID namespace: needs root')) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const dir = trees.dir();
  const log = join(dir, 'out.log');
  const script = 'echo "cwd=$(pwd) greet=$GREET"; ls /proc/self/fd >/dev/null; exec sleep 300';
  const r = await cliWithLeakedFds(['run', '--log', log, '--cwd', dir, '--env', 'GREET=hi', '--', 'sh', '-c', script], join(dir, 'leak'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
  assert.equal(r.stderr, '');
  const pid = Number(r.stdout);
  trees.track(rootOf(pid));
  await waitFor(() => lines(log).length >= 1 && readProcess(pid)?.comm === 'sleep', 'the command to start');
  assert.deepEqual(lines(log), [`cwd=${dir} greet=hi`]);
  // its own session and process group
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  assert.equal(Number(session), pid);
  assert.equal(Number(pgrp), pid);
  // only 0, 1, 2: the leaked fds 3 and 4 were closed
  assert.deepEqual(readdirSync(`/proc/${pid}/fd`).map(Number).sort(), [0, 1, 2]);
  assert.equal(readlinkSync(`/proc/${pid}/fd/0`), '/dev/null');
  assert.equal(readlinkSync(`/proc/${pid}/fd/1`), log);
  // in a PID namespace of its own, not PID 1 there
  const nspid = readProcess(pid)!.nspid;
  assert.equal(nspid.length, 2);
  assert.notEqual(nspid[1], 1);
  // SIGTERM works as for any process (it is not the namespace's init)
  process.kill(pid, 'SIGTERM');
  await waitFor(() => (readProcess(pid)?.state ?? 'Z') === 'Z', 'SIGTERM to end the command');
});

test('cryo run --log: the log holds the command\'s output only, even when the tree is killed as a dump does', async (t) => {
  if (!requireOrSkip(t, isRoot(), 'cryo run starts a PID namespace: needs root')) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const log = join(trees.dir(), 'out.log');
  const r = await cli(['run', '--log', log, '--', 'sh', '-c', 'echo started; exec sleep 300']);
  assert.equal(r.status, 0, r.stderr);
  const pid = Number(r.stdout);
  const init = trees.track(rootOf(pid));
  const unshare = readProcess(init)!.ppid;
  await waitFor(() => lines(log).length >= 1 && readProcess(pid)?.comm === 'sleep', 'the command to start');
  // CRIU ends a dumped tree with SIGKILL; util-linux's unshare then complains on its own stderr
  process.kill(init, 'SIGKILL');
  await waitFor(() => (readProcess(unshare)?.state ?? 'Z') === 'Z', 'unshare to end');
  assert.deepEqual(lines(log), ['started']);
});

test('cryo run --no-pidns: the command itself leads the session, stdio on /dev/null', async (t) => {
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const r = await cli(['run', '--no-pidns', '--', 'sleep', '300']);
  assert.equal(r.status, 0, r.stderr);
  const pid = trees.track(Number(r.stdout));
  await waitFor(() => readProcess(pid)?.comm === 'sleep', 'sleep to start');
  assert.deepEqual(readdirSync(`/proc/${pid}/fd`).map(Number).sort(), [0, 1, 2]);
  for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${pid}/fd/${fd}`), '/dev/null');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]), pid);
});

test('cryo run failures: unknown command, missing cwd, bad --env, options before --', async () => {
  const missing = await cli(['run', '--', 'no-such-command-cryo']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^cryo: error: command not found or not executable: no-such-command-cryo\nhint: /);
  const cwd = await cli(['run', '--cwd', '/no/such/dir', '--', 'true']);
  assert.equal(cwd.status, 1);
  assert.match(cwd.stderr, /working directory \/no\/such\/dir does not exist/);
  const env = await cli(['run', '--env', 'NOEQUALS', '--', 'true']);
  assert.equal(env.status, 2);
  assert.match(env.stderr, /expected --env as NAME=VALUE, got 'NOEQUALS'/);
  const dashes = await cli(['run', 'sh', '-c', 'true']);
  assert.equal(dashes.status, 2);
  assert.match(dashes.stderr, /put the command after --/);
});
