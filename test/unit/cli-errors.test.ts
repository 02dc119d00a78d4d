// Black-box: commander's own errors as cryo's two lines, --json failures as one object, --version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { assertCliJson } from '../helpers/schema.js';

const main = join(import.meta.dirname, '../../src/cli/main.js');

function cryo(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assertCliJson(args, r);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'cryo-unit-cli-errors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** exactly `cryo: error: ...` and `hint: ...`, nothing on stdout, exit 2 */
function assertUsage(args: string[], error: RegExp, hint: string): void {
  const r = cryo(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 3, `two lines and the final newline, got ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, /^cryo: error: /);
  assert.match(lines[0]!.slice('cryo: error: '.length), error);
  assert.equal(lines[1], `hint: ${hint}`);
}

test('unknown option, unknown command, missing and extra arguments, invalid choice: two lines, exit 2', () => {
  assertUsage(['dump', '1', '--tcp'], /^unknown option '--tcp'$/, "see 'cryo dump --help'");
  assertUsage(['frobnicate'], /^unknown command 'frobnicate'$/, "see 'cryo --help'");
  assertUsage(['dumpp'], /^unknown command 'dumpp'$/, "did you mean dump? see 'cryo --help'");
  assertUsage(['dump'], /^missing required argument 'pid'$/, "see 'cryo dump --help'");
  assertUsage(['x', 'a', 'ps', 'extra'], /^too many arguments for 'x'/, "see 'cryo x --help'");
  assertUsage(['completion', 'fish'], /'fish' is invalid .*Allowed choices are bash, zsh/, "see 'cryo completion --help'");
  assertUsage(['--nope'], /^unknown option '--nope'$/, "see 'cryo --help'");
  assertUsage([], /^missing command$/, "see 'cryo --help'");
  assertUsage(['help', 'frob'], /^unknown command 'frob'$/, "see 'cryo --help'");
  assertUsage(['decode', '--max-entry-size'], /argument missing/, "see 'cryo decode --help'");
});

test('a command hint given to commander is kept, before the help pointer', () => {
  const r = cryo(['run', 'ls', '-l']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^cryo: error: unknown option '-l'\nhint: put the command after --: .*; see 'cryo run --help'\n$/);
});

test('help and version still exit 0 and print on stdout', () => {
  for (const args of [['--help'], ['dump', '--help'], ['help', 'dump']]) {
    const r = cryo(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^Usage: cryo/);
    assert.equal(r.stderr, '');
  }
});

test('a failing command given --json prints one error object on stdout, and the two lines on stderr', () => {
  const r = cryo(['inspect', join(tmp, 'no-such-checkpoint'), '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['error']);
  assert.equal(j.error.code, 'NOT_FOUND');
  assert.equal(j.error.exitCode, 1);
  assert.match(j.error.message, /no such checkpoint/);
  assert.equal(typeof j.error.hint, 'string');
  assert.match(r.stderr, /^cryo: error: no such checkpoint.*\nhint: /);
  // usage errors too, from commander and from cryo's own validation
  const u = cryo(['decode', '--bogus', '--json']);
  assert.equal(u.code, 2);
  assert.deepEqual(JSON.parse(u.stdout).error, { code: 'USAGE', message: "unknown option '--bogus'", hint: "see 'cryo decode --help'", exitCode: 2, commander: 'commander.unknownOption' });
  const v = cryo(['check', '--pid', 'abc', '--json']);
  assert.equal(v.code, 2);
  assert.equal(JSON.parse(v.stdout).error.message, "expected a positive integer pid, got 'abc'");
  // without --json, stdout stays empty
  assert.equal(cryo(['inspect', join(tmp, 'no-such-checkpoint')]).stdout, '');
  // a --json after `--` belongs to the command being run, not to cryo
  const w = cryo(['x', join(tmp, 'nope'), 'ps', '--', '--json']);
  assert.equal(w.code, 2);
  assert.equal(w.stdout, '');
});

test('an error line quoting a name from the user or a checkpoint stays one line without control characters', () => {
  const r = cryo(['inspect', join(tmp, 'a\x1b[2Jb\nc')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split('\n').length, 3);
  assert.match(r.stderr, /a\\x1b\[2Jb\\nc/);
  assert.doesNotMatch(r.stderr, /\x1b/);
});

test('CryoError.toJSON: {error: {code, message, hint, exitCode, ...details}}, details never override', () => {
  const e = new CryoError('BAD_IMAGE', 'bad magic', { hint: 'dump again', details: { file: 'a.img', offset: 4, code: 'X' } });
  assert.deepEqual(e.toJSON(), { error: { code: 'BAD_IMAGE', message: 'bad magic', hint: 'dump again', exitCode: 4, file: 'a.img', offset: 4 } });
  assert.deepEqual(new CryoError('FAILED', 'no').toJSON(), { error: { code: 'FAILED', message: 'no', hint: null, exitCode: 1 } });
});

test('--version: cryo from package.json, then the CRIU in use, without running criu check', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
  // a fake criu that records how it was run
  const log = join(tmp, 'criu-argv');
  const fake = join(tmp, 'criu');
  writeFileSync(fake, `#!/bin/sh\necho "$@" >> ${log}\n[ "$1" = --version ] && echo "Version: 9.8.7"\nexit 0\n`);
  chmodSync(fake, 0o700);
  const r = cryo(['--version'], { CRYO_CRIU: fake });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `cryo ${pkg.version}\ncriu 9.8.7 (${fake}, $CRYO_CRIU)\n`);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['--version']);
  const opt = cryo(['--criu', fake, '-V']);
  assert.equal(opt.stdout, `cryo ${pkg.version}\ncriu 9.8.7 (${fake}, --criu)\n`);
  // nothing anywhere
  const none = cryo(['--version'], { CRYO_CRIU: '', PATH: '/nonexistent', XDG_CACHE_HOME: tmp });
  assert.equal(none.code, 0);
  assert.equal(none.stdout, `cryo ${pkg.version}\ncriu: none found (run \`cryo setup\`)\n`);
  const bad = cryo(['--version'], { CRYO_CRIU: join(tmp, 'missing-criu') });
  assert.match(bad.stdout, /^cryo .*\ncriu: criu at .*missing-criu is not usable \(run `cryo setup`\)\n$/);
});
