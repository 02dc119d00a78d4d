// Temp names that carry their owner's pid and the sweep of dead owners' temps; a directory's
// sha256s added after the commit and checked against its files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { addDirHashes, checkDirFiles } from '../../src/checkpoint/dir-hashes.js';
import { listImages } from '../../src/checkpoint/images-list.js';
import type { CheckpointMeta } from '../../src/checkpoint/meta.js';
import { removeDeadTemps, tempDirPrefix, tempFileName } from '../../src/checkpoint/temp-names.js';
import { isCryoError } from '../../src/errors.js';

/** A pid that no process holds now (a child that has exited and been reaped). */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

test('temp names carry this pid; the sweep removes only temps of dead owners', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-unit-temps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.match(basename(tempFileName(dir, 'app.ckpt')), new RegExp(`^\\.app\\.ckpt\\.cryo-${process.pid}-[0-9a-f]{12}$`));
  assert.equal(basename(tempDirPrefix(dir, 'ck')), `.ck.cryo-tmp-${process.pid}-`);
  const dead = deadPid();
  const names = [`.ck.cryo-tmp-${dead}-AbC123`, `.ck.cryo-tmp-${dead}-AbC123-old`, `.app.ckpt.cryo-${dead}-00ff00ff00ff`];
  const kept = [`.ck.cryo-tmp-${process.pid}-XyZ789`, `.ck.cryo-tmp-1-XyZ789`, 'ck', '.ck.cryo-notatemp'];
  for (const n of [...names, ...kept]) mkdirSync(join(dir, n));
  writeFileSync(join(dir, names[0]!, 'pages-1.img'), 'secret');
  assert.deepEqual(removeDeadTemps(dir).sort(), [...names].sort());
  assert.deepEqual(readdirSync(dir).sort(), [...kept].sort());
});

test('a directory gets its sha256s after the commit; a changed file is refused with exit 4', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-unit-hashes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'core-1.img'), 'core bytes');
  writeFileSync(join(dir, 'pages-1.img'), Buffer.alloc(8192, 7));
  const files = await listImages(dir);
  const meta = { format: 'cryo-checkpoint', version: 2, files, totalBytes: files.reduce((s, f) => s + f.size, 0) } as unknown as CheckpointMeta;
  await checkDirFiles(dir, meta);
  const hashed = await addDirHashes(dir, meta);
  assert.equal(hashed.hashes, true);
  assert.ok(hashed.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256 ?? '')));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'cryo.json'), 'utf8')).files, hashed.files);
  assert.equal(statSync(join(dir, 'cryo.json')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.cryo-')), [], 'no temp left');
  await checkDirFiles(dir, hashed);
  const b = readFileSync(join(dir, 'pages-1.img'));
  b[5] ^= 1;
  writeFileSync(join(dir, 'pages-1.img'), b);
  await assert.rejects(checkDirFiles(dir, hashed), (e) => isCryoError(e) && e.exitCode === 4 && /pages-1\.img does not match its sha256/.test(e.message));
  await checkDirFiles(dir, hashed, { hash: false });
  writeFileSync(join(dir, 'core-1.img'), 'short');
  await assert.rejects(checkDirFiles(dir, hashed, { hash: false }), /core-1\.img has 5 bytes, cryo\.json says 10/);
});
