// bin/cryo and the V8 start-up snapshot: a command started from the snapshot behaves as one started
// from the modules, the launcher picks the snapshot only when the Node on PATH built it, and
// `cryo setup` builds one for a Node that has none.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { cliPath, fixturesDir, launcherPath, repoRoot, tempDir, waitFor } from '../helpers/trees.js';

const snapDir = join(repoRoot, 'dist', 'snapshot');
const images = join(fixturesDir, 'images', 'dump');

/** Whether the build made a snapshot the launcher will start under this Node. */
function snapshotFits(): boolean {
  try {
    const stamp = statSync(join(snapDir, 'node'));
    return existsSync(join(snapDir, 'cryo.blob')) && Math.floor(stamp.mtimeMs / 1000) === Math.floor(statSync(process.execPath).mtimeMs / 1000);
  } catch {
    return false;
  }
}

function runBoth(args: string[], env: NodeJS.ProcessEnv = {}) {
  const opts = { encoding: 'utf8' as const, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 1 << 26 };
  const modules = spawnSync(process.execPath, [cliPath, ...args], opts);
  const snapshot = spawnSync(launcherPath, args, opts);
  return { modules, snapshot };
}

/** The command line of `pid` as argv. */
function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** Starts `launcher decode -i /dev/stdin` (it waits for input), returns the node it became. */
async function startedNode(launcher: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const c = spawn(launcher, ['decode', '-i', '/dev/stdin'], { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, ...env } });
  try {
    // the launcher execs node: same pid, new command line
    return await waitFor(() => {
      const argv = cmdline(c.pid!);
      return argv[0]?.endsWith('node') ? argv : undefined;
    }, 'the launcher to exec node', 10_000);
  } finally {
    c.kill('SIGKILL');
    c.stdin.destroy();
  }
}

test('a command started from the snapshot prints, fails and exits as one started from the modules', async (t) => {
  if (!requireOrSkip(t, snapshotFits(), 'no start-up snapshot built by this Node in dist/snapshot (npm run build)')) return;
  assert.ok((await startedNode(launcherPath)).includes('--snapshot-blob'), 'the launcher started the snapshot');
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const cases = [
      ['--version'], ['--help'], ['dump', '--help'], ['nosuch'], ['dump', '--no-such-option'], ['dump'],
      ['decode', '-i', join(images, 'core-28602.img')], ['decode', '-i', join(images, 'core-28602.img'), '--pretty'],
      ['x', images, 'ps'], ['x', images, 'mems'], ['info', images], ['decode', '-i', join(images, 'missing.img')],
      ['check', '--pid', String(sleeper.pid)], ['check', '--pid', String(sleeper.pid), '--json'], ['completion', 'bash'],
    ];
    for (const args of cases) {
      const { modules, snapshot } = runBoth(args);
      assert.equal(snapshot.status, modules.status, `${args.join(' ')}: exit status\n${snapshot.stderr}`);
      assert.equal(snapshot.stdout, modules.stdout, `${args.join(' ')}: stdout`);
      assert.equal(snapshot.stderr, modules.stderr, `${args.join(' ')}: stderr`);
    }
    // the environment is read when the command runs, not when the snapshot was built
    const { modules, snapshot } = runBoth(['--version'], { CRYO_CRIU: '/nonexistent/criu' });
    assert.match(snapshot.stdout, /nonexistent/);
    assert.equal(snapshot.stdout, modules.stdout);
  } finally {
    sleeper.kill('SIGKILL');
  }
});

/** A package copy: bin/cryo, dist/src and package.json copied, dist/snapshot as given. */
function fakePackage(dir: string, blob: Buffer, stampMtime: Date | undefined): string {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  cpSync(launcherPath, join(pkg, 'bin', 'cryo'));
  cpSync(join(repoRoot, 'dist', 'src'), join(pkg, 'dist', 'src'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(join(pkg, 'dist', 'snapshot'));
  writeFileSync(join(pkg, 'dist', 'snapshot', 'cryo.blob'), blob);
  if (stampMtime) {
    writeFileSync(join(pkg, 'dist', 'snapshot', 'node'), `${process.version} ${process.execPath}\n`);
    utimesSync(join(pkg, 'dist', 'snapshot', 'node'), stampMtime, stampMtime);
  }
  return pkg;
}

test('the launcher starts a snapshot only when its stamp names the Node on PATH; else, or when told, the modules', async () => {
  const dir = tempDir('cryo-launcher-');
  try {
    const nodeMtime = statSync(process.execPath).mtime;
    const garbage = Buffer.alloc(4096, 0x5a); // node aborts on a blob like this one: it shows which way was taken
    // the stamp matches: the launcher takes the snapshot (and node refuses this one)
    let pkg = fakePackage(join(dir, 'a'), garbage, nodeMtime);
    let r = spawnSync(join(pkg, 'bin', 'cryo'), ['--version'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, 'a matching stamp starts the snapshot');
    r = spawnSync(join(pkg, 'bin', 'cryo'), ['--version'], { encoding: 'utf8', env: { ...process.env, CRYO_NO_SNAPSHOT: '1' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cryo \d+\.\d+\.\d+\n/);
    // a stamp of another Node (an upgrade, an installed package's normalised mtimes), or none: the modules
    for (const [name, mtime] of [['b', new Date('1985-10-26T08:15:00Z')], ['c', undefined]] as const) {
      pkg = fakePackage(join(dir, name), garbage, mtime);
      r = spawnSync(join(pkg, 'bin', 'cryo'), ['--version'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^cryo \d+\.\d+\.\d+\n/);
      assert.ok(!(await startedNode(join(pkg, 'bin', 'cryo'))).includes('--snapshot-blob'));
    }
    // started through a symlink (npm's bin link) and by a relative path: the package is still found
    const link = join(dir, 'cryo-link');
    symlinkSync(join(pkg, 'bin', 'cryo'), link);
    r = spawnSync(link, ['--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    r = spawnSync('sh', ['-c', 'cd "$1" && exec bin/cryo --version', 'sh', pkg], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    r = spawnSync('sh', ['-c', 'cd "$1" && exec ./cryo --version', 'sh', join(pkg, 'bin')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cryo setup builds the snapshot for this Node when there is none, then finds it current', async (t) => {
  if (!criuFor(t)) return;
  if (!requireOrSkip(t, existsSync(join(snapDir, 'cryo.cjs')), 'no bundle in dist/snapshot (npm run build)')) return;
  const dir = tempDir('cryo-setup-snapshot-');
  try {
    // an installed package: the bundle, no blob, the stamp of another Node
    const pkg = fakePackage(dir, Buffer.alloc(0), new Date('1985-10-26T08:15:00Z'));
    rmSync(join(pkg, 'dist', 'snapshot', 'cryo.blob'));
    cpSync(join(snapDir, 'cryo.cjs'), join(pkg, 'dist', 'snapshot', 'cryo.cjs'));
    const setup = () => spawnSync(join(pkg, 'bin', 'cryo'), ['setup', '--json'], { encoding: 'utf8', timeout: 180_000 });
    let r = setup();
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).snapshot, { state: 'built' });
    const blob = statSync(join(pkg, 'dist', 'snapshot', 'cryo.blob'));
    assert.equal(blob.mode & 0o777, 0o644);
    assert.equal(Math.floor(statSync(join(pkg, 'dist', 'snapshot', 'node')).mtimeMs / 1000), Math.floor(statSync(process.execPath).mtimeMs / 1000));
    assert.ok((await startedNode(join(pkg, 'bin', 'cryo'))).includes('--snapshot-blob'), 'the launcher now starts the snapshot');
    r = spawnSync(join(pkg, 'bin', 'cryo'), ['--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cryo \d+\.\d+\.\d+\ncriu /);
    r = setup();
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).snapshot, { state: 'current' });
    // nothing of the build is left behind
    assert.deepEqual(spawnSync('ls', ['-A', join(pkg, 'dist', 'snapshot')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort(), ['cryo.blob', 'cryo.cjs', 'node']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
