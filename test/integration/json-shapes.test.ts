// Every command's --json output on one real checkpoint (real CRIU, root), validated against its
// schema in schemas/; dump and restore give the same keys whatever the sink or source.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { assertCliJson, assertMatchesSchema, isErrorObject } from '../helpers/schema.js';
import { cli, rootOf, Trees, type CliResult } from '../helpers/trees.js';

const NEEDLE = 'cryo-json-shapes-needle-4711';
// a shell whose script (with the needle) sits in its memory; it wakes every 100 ms
const SCRIPT = `n=${NEEDLE}; while :; do sleep 0.1; done`;

interface Call { argv: string[]; r: CliResult; json?: Record<string, unknown> }

/** Runs cryo without the automatic check (each subtest validates, so that one bad shape fails one subtest). */
async function call(argv: string[]): Promise<Call> {
  const r = await cli(argv, { schema: false });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // the subtest reports it
  }
  return { argv, r, json };
}

/** The keys of a result without the sink's or source's own. */
function commonKeys(v: Record<string, unknown> | undefined, own: string[]): string[] {
  return Object.keys(v ?? {}).filter((k) => !own.includes(k)).sort();
}

test('every --json output of a real checkpoint matches its schema', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees(); // processes: ended once the restores are checked
  const files = new Trees(); // the checkpoints: kept to the end
  t.after(() => {
    trees.cleanup();
    files.cleanup();
  });
  const dir = files.dir('cryo-json-shapes-');
  const ckA = join(dir, 'a');
  const ckB = join(dir, 'b');
  const archive = join(dir, 'a.ckpt');

  const run = await call(['run', '--json', '--', 'sh', '-c', SCRIPT]);
  assert.equal(run.r.status, 0, run.r.stderr);
  const pid = Number(run.json?.pid);
  trees.track(rootOf(pid));

  const valid = (c: Call, status = 0) => () => {
    assert.equal(c.r.status, status, `cryo ${c.argv.join(' ')}: ${c.r.stderr}`);
    assertCliJson(c.argv, c.r);
  };

  await t.test('run', valid(run));
  await t.test('check (machine)', valid(await call(['check', '--json'])));
  const pre = await call(['check', '--pid', String(pid), '--json']);
  await t.test('check --pid', valid(pre));

  const dumpD = await call(['dump', String(pid), '-D', ckA, '--leave-running', '--json']);
  const dumpO = await call(['dump', String(pid), '-o', archive, '--leave-running', '--json']);
  await t.test('dump -D', valid(dumpD));
  await t.test('dump -o', valid(dumpO));
  await t.test('dump -D and dump -o give the same keys apart from the sink\'s own', () => {
    assert.ok(dumpD.json && dumpO.json, 'both printed JSON');
    assert.deepEqual(commonKeys(dumpO.json, ['archive', 'bytes']), commonKeys(dumpD.json, ['dir']));
    assert.ok('dir' in dumpD.json && !('archive' in dumpD.json), 'dump -D names its dir');
    assert.ok('archive' in dumpO.json && 'bytes' in dumpO.json && !('dir' in dumpO.json), 'dump -o names its archive and bytes');
  });
  await t.test('cryo.json of dump -D is the checkpoint description', () => {
    const meta = JSON.parse(readFileSync(join(ckA, 'cryo.json'), 'utf8')) as unknown;
    assertMatchesSchema('checkpoint', meta, `${ckA}/cryo.json`);
  });
  // a second checkpoint for diff (the tree ran on in between)
  const second = await call(['dump', String(pid), '-D', ckB, '--leave-running', '--json']);
  assert.equal(second.r.status, 0, second.r.stderr);

  // the original still runs: cryo run trees have their own PID namespace, so copies restore beside it
  const restD = await call(['restore', '-D', ckA, '--json']);
  const restI = await call(['restore', '-i', archive, '--json']);
  for (const c of [restD, restI]) if (typeof c.json?.pid === 'number') trees.track(rootOf(c.json.pid));
  await t.test('restore -D', valid(restD));
  await t.test('restore -i', valid(restI));
  await t.test('restore -D and restore -i give the same keys apart from the source\'s own', () => {
    assert.ok(restD.json && restI.json, 'both printed JSON');
    assert.deepEqual(commonKeys(restI.json, ['archive', 'bytes']), commonKeys(restD.json, ['dir']));
  });
  trees.cleanup(); // the restored copies and the original: nothing below needs a live tree

  await t.test('inspect (directory)', valid(await call(['inspect', ckA, '--json'])));
  await t.test('inspect (archive)', valid(await call(['inspect', archive, '--json', '--env'])));
  await t.test('stats', valid(await call(['stats', ckA, '--json'])));
  // two dumps of a running tree differ: diff exits 1, as diff(1)
  await t.test('diff', valid(await call(['diff', ckA, ckB, '--json']), 1));
  const found = await call(['mem', ckA, '--search', NEEDLE, '--json']);
  await t.test('mem --search', valid(found));
  const m = (found.json?.matches as Array<{ pid: number; address: string }> | undefined)?.[0];
  await t.test('mem --dump', async () => {
    assert.ok(m, `the needle is in memory: ${found.r.stdout.slice(0, 200)}`);
    const out = join(dir, 'range.bin');
    await valid(await call(['mem', ckA, '--pid', String(m.pid), '--dump', `${m.address}+64`, '-o', out, '--json']))();
  });
  await t.test('verify', valid(await call(['verify', archive, '--json'])));
  await t.test('info', valid(await call(['info', join(ckA, 'pstree.img')])));
  await t.test('decode', valid(await call(['decode', '-i', join(ckA, 'core-1.img')])));
  await t.test('show', valid(await call(['show', join(ckA, 'pstree.img')])));
  await t.test('setup', valid(await call(['setup', '--json'])));

  // failures print the error object on stdout, its exitCode the process's exit status
  const bad = join(dir, 'not-an-archive');
  writeFileSync(bad, 'hello\n');
  for (const argv of [['dump', '4194305', '-D', join(dir, 'never'), '--json'], ['verify', bad, '--json'], ['restore', '-D', join(dir, 'nope'), '--json']]) {
    await t.test(`failure: ${argv[0]} ${argv[1] === bad ? '<not an archive>' : argv[1]}`, async () => {
      const c = await call(argv);
      assert.notEqual(c.r.status, 0, 'the command fails');
      assert.match(c.r.stderr, /^cryo: error: .*\nhint: /m, 'the two stderr lines stay');
      assert.ok(isErrorObject(c.json), `stdout holds {"error": {...}}, got: ${JSON.stringify(c.r.stdout.slice(0, 200))}`);
      assertMatchesSchema('error', c.json, `stdout of cryo ${argv.join(' ')}`);
      assert.equal((c.json!.error as { exitCode: number }).exitCode, c.r.status, 'error.exitCode is the exit status');
    });
  }
});
