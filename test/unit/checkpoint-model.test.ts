// The checkpoint model without CRIU: directories told apart, CRIU's completeness rules, cryo.json
// checked field by field, written safely.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertComplete, classifyDir } from '../../src/checkpoint/complete.js';
import { checkMeta, readMeta, writeMeta } from '../../src/checkpoint/meta-file.js';
import { readPstree } from '../../src/checkpoint/pstree.js';
import { CryoError } from '../../src/errors.js';
import { decodeImage } from '../../src/images/image.js';
import { encodeImage } from '../../src/images/image-encode.js';
import { fixtureDir } from '../helpers/images-fixtures.js';
import { testMeta } from '../helpers/archive.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'cryo-model-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const fails = (fn: () => unknown, code: string, exit: number, msg?: RegExp) => assert.throws(fn, (e: unknown) => {
  assert.ok(e instanceof CryoError, String(e));
  assert.equal(e.code, code, e.message);
  assert.equal(e.exitCode, exit);
  assert.ok(e.hint, 'a hint');
  if (msg) assert.match(e.message, msg);
  return true;
});

test('directories: missing, empty, a failed dump\'s log, other, incomplete and checkpoints are told apart', (t) => {
  const base = tmp(t);
  const mk = (name: string, files: Record<string, string>) => {
    const d = join(base, name);
    mkdirSync(d);
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
    return d;
  };
  assert.equal(classifyDir(join(base, 'nope')), 'missing');
  assert.equal(classifyDir(mk('empty', {})), 'empty');
  assert.equal(classifyDir(mk('failed', { 'dump.log': 'x' })), 'failed');
  assert.equal(classifyDir(mk('other', { 'a.txt': '' })), 'other');
  assert.equal(classifyDir(mk('half', { 'core-1.img': '' })), 'incomplete');
  assert.equal(classifyDir(mk('marker-only', { 'cryo.json': '{}' })), 'incomplete');
  assert.equal(classifyDir(mk('full', { 'inventory.img': '' })), 'checkpoint');
  writeFileSync(join(base, 'file'), '');
  assert.equal(classifyDir(join(base, 'file')), 'not-dir');
  symlinkSync(join(base, 'full'), join(base, 'link'));
  assert.equal(classifyDir(join(base, 'link')), 'not-dir');
  fails(() => assertComplete(join(base, 'nope')), 'NOT_FOUND', 1);
  fails(() => assertComplete(join(base, 'empty')), 'NOT_FOUND', 1);
  fails(() => assertComplete(join(base, 'failed')), 'NOT_FOUND', 1, /log of a failed dump/);
  fails(() => assertComplete(join(base, 'other')), 'NOT_FOUND', 1);
  fails(() => assertComplete(join(base, 'half')), 'BAD_IMAGE', 4);
  fails(() => assertComplete(join(base, 'full')), 'BAD_IMAGE', 4, /pstree\.img/);
});

test('completeness follows CRIU: a pages file short of what the pagemap marks present is refused, the right size passes', (t) => {
  const d = join(tmp(t), 'ckpt');
  cpSync(fixtureDir, d, { recursive: true, filter: (src) => !src.endsWith('.json') });
  // the fixture is a sample of a real dump: keep its first process (whose images are all there)
  const ps = decodeImage(readFileSync(join(d, 'pstree.img')));
  writeFileSync(join(d, 'pstree.img'), encodeImage({ ...ps, entries: ps.entries.slice(0, 1) }));
  const tree = readPstree(d);
  assert.ok(tree.length >= 1);
  // the fixture has no pages file (the pagemap's present pages make it required) and lacks two thread cores
  fails(() => assertComplete(d), 'BAD_IMAGE', 4, /pages-\d+\.img/);
  const err = (() => { try { assertComplete(d); } catch (e) { return e as CryoError; } })()!;
  const missing = err.details.missing as string[];
  for (const core of missing.filter((n) => n.startsWith('core-'))) cpSync(join(d, 'core-28604.img'), join(d, core));
  const pagesFile = missing.find((n) => n.startsWith('pages-'))!;
  writeFileSync(join(d, pagesFile), Buffer.alloc(4096));
  try {
    assertComplete(d);
  } catch (e) {
    // the size now names the exact need
    const m = /\((\d+) bytes, the pagemap says (\d+)\)/.exec((e as Error).message);
    assert.ok(m, (e as Error).message);
    writeFileSync(join(d, pagesFile), Buffer.alloc(Number(m[2])));
  }
  const { tree: t2, zombies } = assertComplete(d);
  assert.equal(t2.length, tree.length);
  assert.ok(zombies instanceof Set);
  // a FIFO or a link in its place is no pages file
  rmSync(join(d, pagesFile));
  symlinkSync('/dev/zero', join(d, pagesFile));
  fails(() => assertComplete(d), 'BAD_IMAGE', 4, /missing/);
});

test('cryo.json: written 0600 with O_EXCL, read back, and every malformed field refused with exit 4', async (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'a.img'), 'abc');
  const meta = await testMeta(d);
  const old = process.umask(0);
  try {
    writeMeta(d, meta);
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(join(d, 'cryo.json')).mode & 0o777, 0o600);
  assert.throws(() => writeMeta(d, meta), /EEXIST/);
  assert.deepEqual(readMeta(d), meta);
  const base = JSON.parse(readFileSync(join(d, 'cryo.json'), 'utf8'));
  const broken: Array<[string, unknown]> = [
    ['no host', { ...base, host: undefined }],
    ['no tree', { ...base, tree: undefined }],
    ['odd tree', { ...base, tree: { ...base.tree, processes: 'x' } }],
    ['no options', { ...base, restoreOptions: undefined }],
    ['unsafe name', { ...base, files: [{ name: '../x', size: 3 }] }],
    ['size mismatch', { ...base, totalBytes: 99 }],
    ['odd stats', { ...base, stats: { frozen_time: 'x' } }],
    ['threads as a list', { ...base, tree: { ...base.tree, processes: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1] }] } }],
    ['old version', { ...base, version: 1 }],
    ['not an object', [1, 2]],
  ];
  for (const [what, v] of broken) fails(() => checkMeta(v, 'cryo.json'), 'BAD_IMAGE', 4);
  rmSync(join(d, 'cryo.json'));
  symlinkSync(join(d, 'a.img'), join(d, 'cryo.json'));
  fails(() => readMeta(d), 'BAD_IMAGE', 4);
  rmSync(join(d, 'cryo.json'));
  assert.equal(readMeta(d), undefined);
});
