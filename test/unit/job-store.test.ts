// The job's checkpoint directory without CRIU: names sort as times, pruning keeps the newest N with
// their job files, partial and orphan files of an interrupted run go, damaged ones are set aside;
// durations parse as job systems write them; bad command lines get two lines and exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseDuration } from '../../src/job/duration.js';
import { listStored, nextName, openStore, placeStaged, pruneStored, readJobFile, removeAllStored, removePartials, setAside, stagedPath, writeJobFile } from '../../src/job/store.js';

const tmp = mkdtempSync(join(tmpdir(), 'cryo-unit-job-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const jobFile = { format: 'cryo-job' as const, pipes: { stdout: 11, stderr: 12 }, cmd: ['sleep', '1'] };

test('checkpoint names sort as times; a new name is always later than the newest', () => {
  const dir = openStore(join(tmp, 'names'));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const t = Date.UTC(2026, 11, 1, 20, 41, 36, 69);
  const a = nextName(dir, t);
  assert.equal(a, 'job-20261201T204136069Z.ckpt');
  writeFileSync(join(dir, a), 'x');
  // the same millisecond, or a clock that went back: still later
  const b = nextName(dir, t - 5000);
  assert.ok(b > a, `${b} > ${a}`);
  writeFileSync(join(dir, b), 'x');
  writeFileSync(join(dir, 'unrelated.txt'), 'x');
  assert.deepEqual(listStored(dir).map((c) => c.name), [b, a]);
});

test('pruning keeps the newest N with their job files; partials and orphan job files go; damaged ones are set aside', () => {
  const dir = openStore(join(tmp, 'prune'));
  const names: string[] = [];
  for (let i = 0; i < 4; i++) {
    const n = nextName(dir, Date.UTC(2026, 0, 1) + i * 1000);
    writeFileSync(join(dir, n), 'archive');
    writeJobFile(dir, n, jobFile);
    names.push(n);
  }
  assert.deepEqual(readJobFile(join(dir, names[0]!)), jobFile);
  assert.equal(statSync(join(dir, `${names[0]}.job.json`)).mode & 0o777, 0o600);
  assert.deepEqual(pruneStored(dir, 2), [names[1], names[0]]);
  assert.deepEqual(readdirSync(dir).sort(), [names[2], `${names[2]}.job.json`, names[3], `${names[3]}.job.json`].sort());

  const later = nextName(dir, Date.UTC(2027, 0, 1));
  writeFileSync(join(dir, `.${later}.cryo-0123456789ab`), 'partial archive');
  writeFileSync(join(dir, `.${later}.job.json.tmp-0123456789ab`), 'partial job file');
  writeJobFile(dir, later, jobFile); // its archive never appeared
  writeFileSync(join(dir, `..${later}.staged-0123456789ab.cryo-0123456789ab`), 'partial archive of a staged one');
  writeFileSync(join(dir, '.someone-elses'), 'kept');
  assert.equal(removePartials(dir).length, 4);
  assert.deepEqual(readdirSync(dir).sort(), ['.someone-elses', names[2], `${names[2]}.job.json`, names[3], `${names[3]}.job.json`].sort());

  // a staged archive (committed, not yet in place) takes its place with its job file at the next start
  const staged = nextName(dir, Date.UTC(2027, 0, 2));
  writeJobFile(dir, staged, jobFile);
  writeFileSync(stagedPath(dir, staged), 'archive');
  assert.deepEqual(removePartials(dir), []);
  assert.deepEqual(listStored(dir).map((c) => c.name), [staged, names[3], names[2]]);
  assert.deepEqual(readJobFile(join(dir, staged)), jobFile);
  // placing a new one never lets the directory hold more than keep: the oldest go first
  const next = nextName(dir, Date.UTC(2027, 0, 3));
  const path = stagedPath(dir, next);
  writeFileSync(path, 'archive');
  assert.deepEqual(placeStaged(dir, path, next, 2), [names[3], names[2]]);
  assert.deepEqual(listStored(dir).map((c) => c.name), [next, staged]);
  const one = nextName(dir, Date.UTC(2027, 0, 4));
  writeFileSync(stagedPath(dir, one), 'archive');
  assert.deepEqual(placeStaged(dir, readdirSync(dir).filter((n) => n.includes('.staged-')).map((n) => join(dir, n))[0]!, one, 1), [next, staged]);
  assert.deepEqual(listStored(dir).map((c) => c.name), [one]);
  rmSync(join(dir, one));
  writeFileSync(join(dir, names[3]!), 'archive');
  writeFileSync(join(dir, names[2]!), 'archive');

  const aside = setAside(listStored(dir)[0]!);
  assert.equal(aside, join(dir, `${names[3]}.failed`));
  assert.deepEqual(listStored(dir).map((c) => c.name), [names[2]]);
  assert.equal(readJobFile(join(dir, 'nope.ckpt')), undefined);
  assert.deepEqual(removeAllStored(dir).sort(), [join(dir, names[2]!), join(dir, `${names[3]}.failed`)].sort());
  assert.deepEqual(readdirSync(dir), ['.someone-elses']);
});

test('durations: ms, s, m, h, a bare number is seconds; anything else is a usage error', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('30'), 30_000);
  for (const bad of ['', '0s', '5 d', '-1s', 'soon', '0.1ms']) assert.throws(() => parseDuration(bad), { code: 'USAGE' }, bad);
});

const main = join(import.meta.dirname, '../../src/cli/main.js');
test('cryo job and cryo ls: bad command lines get cryo: error + hint, exit 2; a missing archive exit 1', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['job', '--', 'true'], 2, /required option '--checkpoint-dir <dir>' not specified/],
    [['job', '--checkpoint-dir', tmp, '--every', 'soon', '--', 'true'], 2, /expected a duration such as 30s/],
    [['job', '--checkpoint-dir', tmp, '--keep', '0', '--', 'true'], 2, /expected --keep from 1 to 1000, got '0'/],
    [['job', '--checkpoint-dir', tmp, '--on-signal', 'TERM,KILL', '--', 'true'], 2, /expected --on-signal as signal names/],
    [['job', '--checkpoint-dir', tmp, '--checkpointed-status', '300', '--', 'true'], 2, /expected --checkpointed-status from 1 to 255/],
    [['job', '--checkpoint-dir', 'oci://registry.local/app:v1', '--', 'true'], 2, /expected a registry repository without a tag/],
    [['job', '--checkpoint-dir', 's3://bucket/app', '--', 'true'], 2, /takes a directory or oci:\/\/HOST\/REPO, not s3:\/\//],
    [['ls', join(tmp, 'missing.ckpt'), join(tmp, 'other.ckpt')], 1, /no such archive/],
  ];
  for (const [args, code, message] of cases) {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.split('\n');
    assert.match(lines[0]!, /^cryo: error: /, r.stderr);
    assert.match(lines[0]!, message);
    assert.match(lines[1]!, /^hint: /);
    assert.equal(lines.length, 3, r.stderr);
  }
});
