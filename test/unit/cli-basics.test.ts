// Black-box: spawn the built CLI and check stdout, stderr and exit codes.
import assert from 'node:assert/strict';
import { spawnCliSync as spawnSync } from '../helpers/schema.js';
import { join } from 'node:path';
import { test } from 'node:test';
import { commandLoaders, commandsFor } from '../../src/cli/commands/index.js';

const main = join(import.meta.dirname, '../../src/cli/main.js');

export function cryo(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists the commands and exits 0', () => {
  const r = cryo(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: cryo/);
  assert.match(r.stdout, /setup/);
  assert.match(r.stdout, /check/);
});

test('an unknown command is a usage error (exit 2)', () => {
  const r = cryo(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command|too many arguments/);
});

test('a missing criu given with --criu: one line, a hint naming cryo setup, exit 3, no stack', () => {
  const r = cryo(['--criu', '/nonexistent/criu', 'check']);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /criu at \/nonexistent\/criu is not usable/);
  assert.doesNotMatch(r.stdout + r.stderr, /at .*\.js:\d+/);
});

test('a bad --pid is a usage error naming the value', () => {
  const r = cryo(['check', '--pid', 'abc']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n')[0], "cryo: error: expected a positive integer pid, got 'abc'");
  assert.match(r.stderr, /^hint: /m);
});

test('--debug adds the stack to an error', () => {
  const r = cryo(['--debug', 'check', '--pid', 'abc']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CryoError/);
});

test('check --json without a usable criu reports it and exits 3', () => {
  const r = cryo(['--criu', '/nonexistent/criu', 'check', '--json']);
  assert.equal(r.code, 3);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, false);
  assert.match(report.criu.error, /not usable/);
  assert.match(report.criu.hint, /cryo setup/);
});

test('a command loads only its own module; help and unknown words load them all', async () => {
  const all = Object.keys(commandLoaders).length;
  assert.equal((await commandsFor(['node', 'cryo', 'decode', '-i', 'x.img'])).length, 1);
  assert.equal((await commandsFor(['node', 'cryo', '--debug', '--criu', '/opt/criu', 'dump', '1'])).length, 1);
  assert.equal((await commandsFor(['node', 'cryo', '--help'])).length, all);
  assert.equal((await commandsFor(['node', 'cryo', 'help', 'dump'])).length, all);
  assert.equal((await commandsFor(['node', 'cryo', 'dumpp'])).length, all);
  assert.equal((await commandsFor(['node', 'cryo', 'constructor'])).length, all);
});

// issue 10: every usage error has a hint (these six had none)
for (const args of [
  ['mem', '/nonexistent', '--regex', '('],
  ['mem', '/nonexistent', '--dump', '0xffffffffffffffffff', '--pid', '1', '-o', '-'],
  ['mem', '/nonexistent', '--dump', '0x10+0', '--pid', '1', '-o', '-'],
  ['mem', '/nonexistent', '--search', 'x', '-C', 'many'],
  ['inspect', '/nonexistent', '--pid', 'x'],
  ['decode', '--max-entry-size', '0'],
]) {
  test(`usage error with a hint: cryo ${args.join(' ')}`, () => {
    const r = cryo(args);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /^cryo: error: /);
    assert.match(lines[1], /^hint: \S/);
  });
}

// issue 10: not root is "needs root" (exit 3), not "no working CRIU" or "no such directory"
// a user namespace without a mapping: cryo sees uid 65534 (nobody) while its files stay readable, so a
// checkout only root can read (a 0700 temp dir, as a CI clone may be) works as well as any other
const nobody = ['unshare', '--user'];
const canDrop = typeof process.getuid === 'function' && process.getuid() === 0
  && spawnSync('unshare', ['--user', process.execPath, '-e', 'process.exit(process.getuid() === 0 ? 1 : 0)'], { encoding: 'utf8' }).status === 0;
for (const args of [['dump', '1', '-D', '/tmp/cryo-never'], ['dump', '1', '-o', '/tmp/cryo-never.ckpt'], ['restore', '-D', '/nonexistent'], ['resume', '1'], ['run', '--', 'true'], ['setup']]) {
  test(`not root: cryo ${args.join(' ')} says it needs root (exit 3)`, { skip: !canDrop && 'needs root and unshare --user to run as nobody' }, () => {
    const r = spawnSync(nobody[0], [...nobody.slice(1), process.execPath, main, ...args], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent', XDG_CACHE_HOME: '' }, timeout: 60_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /^cryo: error: .*needs root/);
    assert.match(r.stderr, /\nhint: .*(root|sudo)/);
    assert.doesNotMatch(r.stderr, /no working CRIU|no such|internal error/i);
  });
}
