// The package as users get it: `npm pack`, installed into an empty project, then its bin (version,
// decode, run/dump/restore) and its library from strict TypeScript, as ES module and as CommonJS.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { cli, lines, repoRoot, rootOf, tempDir, Trees, waitFor } from '../helpers/trees.js';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with only stdio (no inherited descriptors), bounded by a timeout. */
function sh(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function ok(r: Ran, what: string): Ran {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r;
}

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const imagesDir = join(repoRoot, 'test', 'fixtures', 'images', 'dump');
const consumerSrc = join(repoRoot, 'test', 'package', 'consumer');
let work = '';
let project = '';
let tarball = '';
const trees = new Trees();

before(async () => {
  work = tempDir('cryo-package-');
  project = join(work, 'project');
  // npm test has just built dist/; the prepack clean build would delete dist/ under the running suite
  const packed = ok(await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], repoRoot), 'npm pack');
  tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  ok(await sh('mkdir', ['-p', project], work), 'mkdir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cryo-consumer', private: true, version: '1.0.0' }));
  ok(await sh('npm', ['install', '--no-audit', '--no-fund', '--no-save', tarball], project, 300_000), 'npm install of the tarball');
});

after(() => {
  trees.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the build, the proto descriptors and the license, and no tests or sources', async () => {
  const r = ok(await sh('tar', ['tzf', tarball], work), 'tar');
  const files = r.stdout.split('\n').filter(Boolean);
  for (const f of ['package/LICENSE', 'package/README.md', 'package/package.json', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/cli/main.js', 'package/dist/proto/images.json', 'package/dist/proto/rpc.json', 'package/bin/cryo', 'package/dist/snapshot/cryo.cjs', 'package/dist/snapshot/LICENSE.commander']) {
    assert.ok(files.includes(f), `${f} is missing from the tarball`);
  }
  // a blob and its stamp are made for the Node that runs cryo (`cryo setup`), never shipped
  const stray = files.filter((f) => /^package\/(dist\/(test|bench)|src|test|bench|scripts|proto)\//.test(f) || /^package\/dist\/snapshot\/(cryo\.blob|node)$/.test(f));
  assert.deepEqual(stray, []);
});

test('npx cryo --version prints the package version', async () => {
  const r = ok(await sh('npx', ['--no-install', 'cryo', '--version'], project), 'npx cryo --version');
  // the first line names cryo, the second the CRIU in use
  assert.equal(r.stdout.split('\n')[0], `cryo ${version}`);
});

test('the installed cryo decodes every image fixture exactly as the repository build does', async () => {
  const images = readdirSync(imagesDir).filter((f) => f.endsWith('.img')).sort();
  assert.ok(images.length > 0, 'no image fixtures');
  // once through npx, the rest through the installed bin link (same file, less start-up time)
  const first = ok(await sh('npx', ['--no-install', 'cryo', 'decode', '-i', join(imagesDir, images[0]!)], project), 'npx cryo decode');
  const own = ok(await cli(['decode', '-i', join(imagesDir, images[0]!)]), 'repository decode');
  assert.equal(first.stdout, own.stdout);
  const bin = join(project, 'node_modules', '.bin', 'cryo');
  for (const img of images) {
    const installed = ok(await sh(bin, ['decode', '-i', join(imagesDir, img)], project), `installed decode of ${img}`);
    const repo = ok(await cli(['decode', '-i', join(imagesDir, img)]), `repository decode of ${img}`);
    assert.ok(installed.stdout.length > 0, img);
    assert.equal(installed.stdout, repo.stdout, img);
  }
});

/** Waits until the counter in `log` has advanced past `n` lines, and returns its lines. */
async function counterPast(log: string, n: number): Promise<string[]> {
  return waitFor(() => (lines(log).length > n ? lines(log) : undefined), `the counter in ${log} to pass ${n}`);
}

test('npx cryo run, dump and restore: the restored counter goes on from where it was dumped', async (t: TestContext) => {
  if (!criuFor(t)) return;
  const dir = join(work, 'cli-ckpt');
  const log = join(work, 'cli.log');
  const started = ok(await sh('npx', ['--no-install', 'cryo', 'run', '--log', log, '--', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done'], project), 'cryo run');
  const pid = Number(started.stdout);
  assert.ok(pid > 0, started.stdout);
  trees.track(rootOf(pid));
  await counterPast(log, 3);
  const dumped = ok(await sh('npx', ['--no-install', 'cryo', 'dump', String(pid), '-D', dir, '--json'], project), 'cryo dump');
  assert.equal((JSON.parse(dumped.stdout) as { pid: number }).pid, pid);
  const at = lines(log).length;
  const restored = ok(await sh('npx', ['--no-install', 'cryo', 'restore', '-D', dir, '--json'], project), 'cryo restore');
  const r = JSON.parse(restored.stdout) as { pid: number; rootPid: number };
  trees.track(r.rootPid);
  const later = await counterPast(log, at + 2);
  // one counter, no restart: line k holds k
  assert.deepEqual(later.slice(0, at + 3), Array.from({ length: at + 3 }, (_, k) => String(k + 1)));
});

/** Compiles the consumer programs with tsc --strict (module nodenext) inside the installed project. */
async function compileConsumers(): Promise<void> {
  for (const f of readdirSync(consumerSrc)) copyFileSync(join(consumerSrc, f), join(project, f));
  const tsconfig = {
    compilerOptions: {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      outDir: 'out',
      types: ['node'],
      // the repository's @types/node stands in for the one a user would install
      typeRoots: [join(repoRoot, 'node_modules', '@types')],
    },
    files: ['esm.mts', 'cjs.cts'],
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  ok(await sh(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project), 'tsc --strict of the consumers');
}

let compiled: Promise<void> | undefined;

test('a CommonJS program require()s the installed package, compiled with tsc --strict', async () => {
  await (compiled ??= compileConsumers());
  const img = readdirSync(imagesDir).find((f) => f.startsWith('core-') && f.endsWith('.img'))!;
  const r = ok(await sh(process.execPath, [join(project, 'out', 'cjs.cjs'), join(imagesDir, img)], project), 'the CommonJS program');
  assert.doesNotMatch(r.stderr, /ExperimentalWarning/);
  assert.deepEqual(JSON.parse(r.stdout), { magic: 'CORE', entries: 1, caught: 'NOT_FOUND', functions: ['function', 'function', 'function'] });
});

test('an ES module program runs, dumps and restores a tree through the installed library', async (t: TestContext) => {
  if (!criuFor(t)) return;
  await (compiled ??= compileConsumers());
  const dir = join(work, 'lib-ckpt');
  const log = join(work, 'lib.log');
  const img = readdirSync(imagesDir).find((f) => f.startsWith('core-') && f.endsWith('.img'))!;
  const r = await sh(process.execPath, [join(project, 'out', 'esm.mjs'), dir, log, join(imagesDir, img)], project);
  const steps = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number | string | null>);
  // end what it started before asserting anything
  for (const s of steps) {
    if (typeof s.started === 'number') trees.track(rootOf(s.started));
    if (typeof s.rootPid === 'number') trees.track(s.rootPid);
  }
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(steps.slice(0, 2), [{ magic: 'CORE', entries: 1 }, { caught: 'NOT_FOUND', exitCode: 1 }]);
  const started = steps[2]!.started as number;
  assert.equal(steps[3]!.dumped, started);
  assert.ok((steps[4]!.restored as number) > 0);
  const at = lines(log).length;
  const later = await counterPast(log, at + 2);
  assert.deepEqual(later.slice(0, at + 3), Array.from({ length: at + 3 }, (_, k) => String(k + 1)));
});
