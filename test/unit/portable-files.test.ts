// The portable files' parts, without root or CRIU: the tar bundle (written, read back, damage
// refused), ELF build-ids (against readelf), the system rule, and the restore-side file checks
// (missing, changed, conflict, overwrite) against real files in a temp dir.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BundleWriter, FILES_BUNDLE, readBundle } from '../../src/checkpoint/files-bundle.js';
import { hashFd } from '../../src/checkpoint/files-deps.js';
import { readBuildId } from '../../src/checkpoint/files-elf.js';
import { systemPaths } from '../../src/checkpoint/files-system.js';
import type { CheckpointDependency, CheckpointMeta } from '../../src/checkpoint/meta.js';
import { checkMeta } from '../../src/checkpoint/meta-file.js';
import { checkFiles, placeFiles } from '../../src/pipeline/portable.js';
import { isCryoError } from '../../src/errors.js';

function temp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'cryo-portable-unit-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A bundle of `files` (path -> contents) with their parent dirs, plus the matching dependencies. */
function makeCheckpoint(images: string, files: Record<string, string>, included = true): CheckpointDependency[] {
  const w = new BundleWriter(join(images, FILES_BUNDLE));
  const deps: CheckpointDependency[] = [];
  const dirs = new Set<string>();
  for (const p of Object.keys(files)) for (let d = p.slice(0, p.lastIndexOf('/')); d.length > 1; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
  for (const d of [...dirs].sort()) w.addDir(d, statSync(d));
  for (const [p, body] of Object.entries(files)) {
    const st = statSync(p);
    const fd = openSync(p, 'r');
    const sha256 = w.addFile(p, st, fd);
    closeSync(fd);
    deps.push({ path: p, kind: 'file', uses: ['fd'], size: body.length, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, sha256, writable: false, system: false, included });
  }
  w.close();
  return deps;
}

const metaWith = (dependencies: CheckpointDependency[]) => ({ dependencies }) as unknown as CheckpointMeta;

test('a bundle reads back with its paths (long ones too), modes, owners and sub-second mtimes; tar lists it', (t) => {
  const d = temp(t);
  const deep = join(d, 'p'.repeat(60), 'q'.repeat(60));
  mkdirSync(deep, { recursive: true });
  const f = join(deep, 'data.bin');
  writeFileSync(f, 'hello\n', { mode: 0o640 });
  utimesSync(f, 1_700_000_000.25, 1_700_000_000.25);
  const images = join(d, 'images');
  mkdirSync(images);
  makeCheckpoint(images, { [f]: 'hello\n' });
  const entries = readBundle(join(images, FILES_BUNDLE));
  const file = entries.find((e) => e.path === f)!;
  assert.equal(file.kind, 'file');
  assert.equal(file.size, 6);
  assert.equal(file.mode, 0o640);
  assert.equal(file.mtimeMs, 1_700_000_000_250);
  assert.ok(entries.findIndex((e) => e.path === deep) < entries.indexOf(file), 'parents come first');
  const tar = spawnSync('tar', ['tf', join(images, FILES_BUNDLE)], { encoding: 'utf8' });
  if (tar.status === 0) assert.ok(tar.stdout.split('\n').includes(f.slice(1)), tar.stdout);
});

test('a damaged bundle is refused as a bad image', (t) => {
  const d = temp(t);
  const f = join(d, 'x');
  writeFileSync(f, 'x');
  const images = join(d, 'images');
  mkdirSync(images);
  makeCheckpoint(images, { [f]: 'x' });
  const b = join(images, FILES_BUNDLE);
  const bytes = readFileSync(b);
  bytes[512 * 2 + 100] ^= 0x7; // the file entry's header (after the pax header and its record)
  writeFileSync(b, bytes);
  assert.throws(() => readBundle(b), (e) => isCryoError(e) && e.exitCode === 4 && /checksum/.test(e.message));
});

test('the ELF build-id matches readelf', (t) => {
  // binutils' readelf is the reference; found by path, it is no dependency of the project
  const readelf = ['/usr/bin/readelf', '/bin/readelf'].find((p) => existsSync(p));
  if (!readelf) return t.skip('no readelf here');
  const re = spawnSync(readelf, ['-n', '/usr/bin/bash'], { encoding: 'utf8' });
  if (re.status !== 0) return t.skip('readelf cannot read /usr/bin/bash');
  const want = /Build ID: ([0-9a-f]+)/.exec(re.stdout)?.[1];
  const fd = openSync('/usr/bin/bash', 'r');
  try {
    assert.equal(readBuildId(fd), want);
  } finally {
    closeSync(fd);
  }
  const d = temp(t);
  writeFileSync(join(d, 'text'), 'not an elf file');
  const fd2 = openSync(join(d, 'text'), 'r');
  assert.equal(readBuildId(fd2), undefined);
  closeSync(fd2);
});

test('the system rule: prefixes, dpkg-owned paths, and nothing else', (t) => {
  const d = temp(t);
  writeFileSync(join(d, 'pkg.list'), '/.\n/opt/vendor\n/opt/vendor/tool\n/tmp/never\n');
  const paths = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/etc/localtime', '/opt/vendor/tool', '/opt/vendor/tool.log', '/opt/vendor/to', '/usrdata/x', '/tmp/proj/app.db', '/tmp/never'];
  assert.deepEqual([...systemPaths(paths, d)].sort(), ['/etc/localtime', '/opt/vendor/tool', '/usr/lib/x86_64-linux-gnu/libc.so.6']);
  assert.deepEqual([...systemPaths(['/opt/vendor/tool'], join(d, 'none'))], [], 'no dpkg database: the prefixes alone decide');
});

test('restore-side files: carried ones are put back with mode and mtime; missing or changed uncarried ones are named', (t) => {
  const d = temp(t);
  const proj = join(d, 'proj');
  mkdirSync(proj);
  const log = join(proj, 'app.log');
  const cfg = join(proj, 'app.conf');
  writeFileSync(log, 'line 1\n', { mode: 0o600 });
  writeFileSync(cfg, 'port=1\n');
  const images = join(d, 'images');
  mkdirSync(images);
  const carried = makeCheckpoint(images, { [log]: 'line 1\n' });
  const st = lstatSync(log);
  const cfgDep: CheckpointDependency = { ...carried[0]!, path: cfg, size: 7, included: false, sha256: undefined };
  const fd = openSync(cfg, 'r');
  cfgDep.sha256 = hashFd(fd, 7);
  closeSync(fd);
  const meta = metaWith([...carried, cfgDep]);
  assert.doesNotThrow(() => checkMeta({ ...validMeta(), dependencies: meta.dependencies }, 'x'));
  assert.deepEqual(checkFiles(images, meta), [], 'nothing differs on the machine of the dump');

  // "another machine": the project is gone
  rmSync(proj, { recursive: true });
  const missing = checkFiles(images, meta);
  assert.deepEqual(missing.map((p) => [p.path, p.problem, p.blocker]), [[cfg, 'missing', true]]);
  assert.match(missing[0]!.fix, /--include/);
  assert.throws(() => placeFiles(images, meta), (e) => isCryoError(e) && e.code === 'RESTORE_FAILED' && e.message.includes(cfg) && !existsSyncSafe(log));

  // the uncarried file copied over: the carried one is put back as it was
  mkdirSync(proj);
  writeFileSync(cfg, 'port=1\n');
  const placed = placeFiles(images, meta);
  assert.deepEqual(placed.placed, [log]);
  assert.equal(readFileSync(log, 'utf8'), 'line 1\n');
  const back = lstatSync(log);
  assert.equal(back.mode & 0o7777, st.mode & 0o7777);
  assert.ok(Math.abs(back.mtimeMs - st.mtimeMs) < 1, `mtime ${back.mtimeMs} vs ${st.mtimeMs}`);

  // a different file where a carried one goes: refused, then replaced with overwriteFiles
  writeFileSync(log, 'someone else\n');
  const conflict = checkFiles(images, meta);
  assert.deepEqual(conflict.map((p) => [p.path, p.problem, p.blocker]), [[log, 'conflict', true]]);
  assert.throws(() => placeFiles(images, meta), (e) => isCryoError(e) && /overwrite-files/.test(e.hint ?? ''));
  assert.equal(readFileSync(log, 'utf8'), 'someone else\n', 'a refused restore touches nothing');
  const replaced = placeFiles(images, meta, { overwriteFiles: true });
  assert.deepEqual(replaced.replaced, [log]);
  assert.equal(readFileSync(log, 'utf8'), 'line 1\n');

  // an uncarried file with other contents: a blocker (read-only use), a finding when the tree writes it
  writeFileSync(cfg, 'port=2\n');
  assert.deepEqual(checkFiles(images, meta).map((p) => [p.path, p.problem, p.blocker]), [[cfg, 'changed', true]]);
  const writable = metaWith([...carried, { ...cfgDep, writable: true }]);
  assert.deepEqual(checkFiles(images, writable).map((p) => [p.path, p.problem, p.blocker]), [[cfg, 'changed-writable', false]]);
});

test('checkpoint descriptions with unsafe dependency paths are refused', () => {
  for (const path of ['relative', '/a/../etc/passwd', '/a//b', '/a/./b']) {
    const dep = { path, kind: 'file', uses: [], size: 0, mtimeMs: 0, mode: 0, uid: 0, gid: 0, writable: false, system: false, included: true };
    assert.throws(() => checkMeta({ ...validMeta(), dependencies: [dep] }, 'cryo.json'), (e) => isCryoError(e) && e.exitCode === 4, path);
  }
});

function existsSyncSafe(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

function validMeta(): Record<string, unknown> {
  return {
    format: 'cryo-checkpoint', version: 2, createdAt: '2026-12-01T00:00:00Z', cryo: { version: '0' }, criu: { version: '4.2.1' },
    host: { hostname: 'h', kernel: '6.18', arch: 'x64' }, tree: { pid: 2, rootPid: 1, pidns: true, netns: false, processes: [] },
    restoreOptions: {}, dumpOptions: {}, files: [], totalBytes: 0,
  };
}
