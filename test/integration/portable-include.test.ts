// --include and --exclude against real CRIU, restored on the machine of the dump: a carried file
// that differs here refuses the restore (naming it, hinting --overwrite-files); --overwrite-files
// replaces it and says so; an excluded directory is neither carried nor required.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMeta } from '../../src/checkpoint/meta-file.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, killTree, lines, tempDir, waitFor } from '../helpers/trees.js';

test('--include carries files the tree does not hold open; a differing file is refused, then replaced with --overwrite-files', { timeout: 120_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const base = tempDir('cryo-portable-include-');
  const proj = join(base, 'proj');
  mkdirSync(join(proj, 'cache'), { recursive: true });
  writeFileSync(join(proj, 'notes.txt'), 'the notes at the dump\n', { mode: 0o640 });
  writeFileSync(join(proj, 'cache', 'big.bin'), Buffer.alloc(1 << 16));
  const ended: number[] = [];
  t.after(() => {
    for (const p of ended) if (alive(p)) killTree(p);
    rmSync(base, { recursive: true, force: true });
  });
  const started = await cli(['run', '--json', '--cwd', proj, '--', '/bin/sh', '-c', 'exec 3>>app.log; while :; do echo tick >&3; sleep 0.1; done']);
  assert.equal(started.status, 0, started.stderr);
  const tree = JSON.parse(started.stdout) as { pid: number; rootPid: number };
  ended.push(tree.rootPid);
  await waitFor(() => lines(join(proj, 'app.log')).length >= 2, 'the tree to log');

  const ckpt = join(base, 'ckpt');
  const d = await cli(['dump', String(tree.pid), '-D', ckpt, '--include', proj, '--exclude', join(proj, 'cache'), '--json']);
  assert.equal(d.status, 0, d.stderr);
  const deps = new Map((readMeta(ckpt)!.dependencies ?? []).map((x) => [x.path, x]));
  assert.equal(deps.get(join(proj, 'notes.txt'))?.included, true);
  assert.deepEqual(deps.get(join(proj, 'notes.txt'))?.uses, []);
  assert.equal(deps.get(join(proj, 'app.log'))?.included, true);
  assert.equal(deps.has(join(proj, 'cache', 'big.bin')), false, 'excluded and unused: no dependency');

  // the excluded directory may go; the carried notes changed here
  rmSync(join(proj, 'cache'), { recursive: true });
  writeFileSync(join(proj, 'notes.txt'), 'edited after the dump\n');
  const refused = await cli(['restore', '-D', ckpt]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`${join(proj, 'notes.txt')} exists here and`));
  assert.match(refused.stderr, /hint: .*--overwrite-files/);
  assert.equal(readFileSync(join(proj, 'notes.txt'), 'utf8'), 'edited after the dump\n', 'a refused restore touches nothing');

  const r = await cli(['restore', '-D', ckpt, '--overwrite-files', '--json']);
  assert.equal(r.status, 0, r.stderr);
  ended.push((JSON.parse(r.stdout) as { rootPid: number }).rootPid);
  assert.match(r.stderr, new RegExp(`replaced ${join(proj, 'notes.txt')}`));
  assert.equal(readFileSync(join(proj, 'notes.txt'), 'utf8'), 'the notes at the dump\n');
  const n = lines(join(proj, 'app.log')).length;
  await waitFor(() => lines(join(proj, 'app.log')).length > n + 2, 'the restored tree to go on logging');
});
