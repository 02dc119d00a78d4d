// `cryo verify` as users run it: the built CLI, its stdout, stderr and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeTestArchive } from '../helpers/archive.js';
import { assertCliJson } from '../helpers/schema.js';

const cliPath = new URL('../../src/cli/main.js', import.meta.url).pathname;
const cryo = (args: string[], input?: Buffer) => {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assertCliJson(args, r);
  return r;
};

test('cryo verify: 0 and a short report for a good archive (file or stdin), 4 for damage, 2 for a directory', async (t) => {
  const d = mkdtempSync(join(os.tmpdir(), 'cryo-verify-cli-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, 'img'));
  writeFileSync(join(d, 'img', 'pages-1.img'), Buffer.concat([randomBytes(100_000), Buffer.alloc(300_000)]));
  writeFileSync(join(d, 'img', 'inventory.img'), randomBytes(80));
  const file = join(d, 'a.ckpt');
  await writeTestArchive(join(d, 'img'), file, { criuVersion: '4.2.1' });

  const ok = cryo(['verify', file]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: .*2 image files, .*every sha256 verified/);
  assert.match(ok.stdout, /CRIU 4\.2\.1/);

  const json = cryo(['verify', '-', '--json'], readFileSync(file));
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.files, 2);
  assert.equal(report.meta.files.length, 2);
  assert.equal(report.archive, '-');

  const bad = readFileSync(file);
  bad[bad.length - 40] ^= 0xff;
  writeFileSync(join(d, 'bad.ckpt'), bad);
  const b = cryo(['verify', join(d, 'bad.ckpt')]);
  assert.equal(b.status, 4);
  assert.equal(b.stdout, '');
  assert.match(b.stderr, /^cryo: error: .*(corrupted|damaged)/);
  assert.match(b.stderr, /\nhint: /);
  const bj = cryo(['verify', join(d, 'bad.ckpt'), '--json']);
  assert.equal(bj.status, 4);
  assert.equal(JSON.parse(bj.stdout).error.code, 'BAD_ARCHIVE');

  const trunc = cryo(['verify', '-'], readFileSync(file).subarray(0, 200));
  assert.equal(trunc.status, 4);
  assert.match(trunc.stderr, /truncated/);

  // a directory of random bytes is no checkpoint: not a CRIU image set (exit 4)
  assert.equal(cryo(['verify', join(d, 'img')]).status, 4);
  assert.equal(cryo(['verify', join(d, 'missing.ckpt')]).status, 1);
});
