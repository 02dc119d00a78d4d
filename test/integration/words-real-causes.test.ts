// issue 10, "Wrong words": what cryo says when real CRIU fails, held against real runs: a full disk, a
// kernel thread, the host's init, and checkpoints missing pages or files images (exit 4 everywhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { criuFor } from '../helpers/env.js';
import { alive, cli, cliPath, compileFixture, Trees } from '../helpers/trees.js';

const trees = new Trees();
test.after(() => trees.cleanup());

test('disk full: the cause is "no space left", never RLIMIT_NOFILE; the tree still runs', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t)) return;
  const mnt = trees.dir('cryo-words-full-');
  // one private mount namespace holds the 2 MiB tmpfs, cryo and the tree (so CRIU sees the tree in its own
  // mount namespace, not in one of its own); 24 MiB of random memory fits neither the images nor an archive
  const script = [
    'set -e',
    'mount -t tmpfs -o size=2M tmpfs "$1"',
    'j=$("$2" "$3" run --json -- "$2" -e "const b = require(\'crypto\').randomBytes(24 << 20); setInterval(() => b[0]++, 1000)")',
    'pid=$(echo "$j" | sed \'s/.*"pid":\\([0-9]*\\).*/\\1/\')',
    'root=$(echo "$j" | sed \'s/.*"rootPid":\\([0-9]*\\).*/\\1/\')',
    'sleep 0.3',
    'set +e',
    '"$2" "$3" dump "$pid" -D "$1/ck"; echo "status-D=$?" >&2',
    'kill -0 "$pid" && echo alive-D >&2',
    '"$2" "$3" dump "$pid" -o "$1/ck.cryo"; echo "status-o=$?" >&2',
    'kill -0 "$pid" && echo alive-o >&2',
    'kill -KILL "$root"',
  ].join('\n');
  const d = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', mnt, process.execPath, cliPath], { encoding: 'utf8', timeout: 90_000 });
  const err = d.stderr;
  const [forDir, forArchive] = err.split('status-D=');
  assert.match(forDir, /^cryo: error: dump failed: no space left .*\(ENOSPC\)/m, err);
  assert.match(forArchive, /^1\nalive-D\n/, err);
  assert.match(forArchive, /^cryo: error: .*ENOSPC/m, err);
  assert.match(forArchive, /status-o=1\nalive-o/, err);
  assert.doesNotMatch(err, /RLIMIT/);
  for (const part of [forDir, forArchive]) assert.match(part, /\nhint: \S/);
});

test('a kernel thread and the host init are named as such, not "traced by a debugger"', { timeout: 60_000 }, async (t) => {
  if (!criuFor(t)) return;
  // a per-CPU kernel thread lives as long as the machine (kworkers come and go)
  const kthread = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).find((p) => /^\d+ \((ksoftirqd|migration)\/0\) \S+ 2 /.test(spawnSync('cat', [`/proc/${p}/stat`], { encoding: 'utf8' }).stdout));
  for (const [pid, want] of [[2, /kernel thread/], [kthread, /kernel thread/], [1, /system's init/]] as const) {
    if (pid === undefined) continue;
    const dir = join(trees.dir('cryo-words-k-'), 'ck');
    const d = await cli(['dump', String(pid), '-D', dir, '-R']);
    assert.equal(d.status, 1, d.stderr);
    assert.match(d.stderr, want);
    assert.doesNotMatch(d.stderr, /traced|debugger/);
    const c = await cli(['check', '--pid', String(pid), '--json']);
    const report = JSON.parse(c.stdout) as { blockers: { kind: string; message: string }[] };
    assert.ok(report.blockers.some((b) => want.test(b.message)), `pid ${pid}: ${c.stdout.slice(0, 600)}`);
    assert.ok(!report.blockers.some((b) => /traced/.test(b.message)));
  }
});

test('a checkpoint missing a pages or files image exits 4 in restore, inspect, mem, x and diff', { timeout: 120_000 }, async (t) => {
  if (!criuFor(t)) return;
  const work = trees.dir('cryo-words-miss-');
  const prog = compileFixture('preflight-trees.c', work);
  if (!prog) return t.skip('gcc is missing');
  const r = await cli(['run', '--json', '--', prog, 'open', join(work, 'held')]);
  const { pid, rootPid } = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  trees.track(rootPid);
  const good = join(work, 'good');
  const d = await cli(['dump', String(pid), '-D', good, '-R']);
  assert.equal(d.status, 0, d.stderr);
  for (const [name, drop] of [['pages', /^pages-\d+\.img$/], ['files', /^files\.img$/]] as const) {
    const bad = join(work, name);
    mkdirSync(bad);
    cpSync(good, bad, { recursive: true });
    for (const f of readdirSync(bad).filter((n) => drop.test(n))) rmSync(join(bad, f));
    const runs: [string[], boolean][] = [
      [['restore', '-D', bad], true],
      [['inspect', bad], name === 'pages'],
      [['mem', bad, '--search', 'x'], name === 'pages'],
      [['x', bad, 'ps'], name === 'pages'],
      [['diff', bad, good], name === 'pages'],
      [['verify', bad], true],
    ];
    for (const [args, reported] of runs) {
      const c = await cli(args);
      // where the image is needed the command says so with exit 4; the others show "unknown path" for its files
      if (reported || /missing|incomplete/.test(c.stderr)) {
        assert.equal(c.status, 4, `${args.join(' ')}: ${c.stderr}`);
        assert.match(c.stderr, /^cryo: error: .*(missing|incomplete)/);
        assert.match(c.stderr, /\nhint: \S/);
      }
    }
  }
});
