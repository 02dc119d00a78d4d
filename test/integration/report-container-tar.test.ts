// Container checkpoint archives laid out as podman and CRI-O (Kubernetes) write them: CRIU's images
// under checkpoint/, config.dump, spec.dump, stats-dump at the top, rootfs-diff.tar; plain, gzip and
// zstd. Built here from real CRIU dumps; inspect, x, mem, stats, diff, report and verify must see
// in them exactly what they see in the dumps' directories.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { cli, lines, Trees, waitFor } from '../helpers/trees.js';

const NEEDLE = 'CRYO-CONTAINER-TAR-4b1d-NEEDLE';
const SOURCE = `
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static volatile sig_atomic_t pending;
static void on_usr1(int s) { (void)s; pending++; }
int main(int argc, char **argv) {
  char *heap = malloc(8192);
  strcpy(heap + 100, argv[1]);
  char *region = mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(region, 7, 16 * 4096);
  signal(SIGUSR1, on_usr1);
  printf("ready\\n");
  fflush(stdout);
  int seen = 0;
  for (;;) {
    pause();
    while (seen < pending) { seen++; region[5 * 4096]++; printf("changed %d\\n", seen); fflush(stdout); }
  }
}
`;

const podman = {
  config: { id: 'f11d11844af0aa21d7e0c1f5f3a3c2e1b0a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5', name: 'magical_murdock', rootfsImageName: 'quay.io/example/hello:latest', rootfsImageRef: 'sha256:0123abcd', runtime: 'crun', createdTime: '2026-02-28T09:43:52.000000000Z', checkpointedTime: '2026-02-28T09:45:00.000000000Z' },
  spec: { ociVersion: '1.1.0', annotations: { 'io.container.manager': 'libpod', 'org.opencontainers.image.stopSignal': '15' } },
};
const crio = {
  config: { id: '9a8b7c6d5e4f', name: 'k8s_counter_counters_default_8d6c7f0e-1', rootfsImageName: 'quay.io/example/counter:latest', runtime: 'runc', createdTime: '2026-02-13T16:20:09Z' },
  spec: { ociVersion: '1.0.2', annotations: { 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.container.name': 'counter', 'io.kubernetes.pod.name': 'counters', 'io.kubernetes.pod.namespace': 'default' } },
};

describe('container checkpoint archives (podman, CRI-O)', () => {
  const trees = new Trees();
  let work = '';
  let d1 = '';
  let d2 = '';
  const tars = new Map<string, string>();
  let ready: boolean | undefined;

  before(() => {
    work = trees.dir('cryo-ctr-');
  });
  after(() => trees.cleanup());

  /** A tar as the engines lay it out, from a CRIU images dir (cryo.json left out: they do not write it). */
  function buildTar(dir: string, name: string, meta: { config: object; spec: object }, compression: 'none' | 'gzip' | 'zstd'): string {
    const root = join(work, `${name}-root`);
    mkdirSync(join(root, 'checkpoint'), { recursive: true });
    for (const f of readdirSync(dir)) if (f !== 'cryo.json' && f !== 'dump.log') cpSync(join(dir, f), join(root, 'checkpoint', f));
    // podman and CRI-O keep CRIU's stats-dump beside the images directory, not in it
    renameSync(join(root, 'checkpoint', 'stats-dump'), join(root, 'stats-dump'));
    writeFileSync(join(root, 'config.dump'), JSON.stringify(meta.config));
    writeFileSync(join(root, 'spec.dump'), JSON.stringify(meta.spec));
    writeFileSync(join(root, 'network.status'), '[]');
    mkdirSync(join(root, 'diff', 'etc'), { recursive: true });
    writeFileSync(join(root, 'diff', 'etc', 'hostname'), 'counter\n');
    const rd = spawnSync('tar', ['-C', join(root, 'diff'), '-cf', join(root, 'rootfs-diff.tar'), '.'], { encoding: 'utf8' });
    assert.equal(rd.status, 0, rd.stderr);
    rmSync(join(root, 'diff'), { recursive: true });
    const out = join(work, `${name}.tar${compression === 'gzip' ? '.gz' : compression === 'zstd' ? '.zst' : ''}`);
    const flag = compression === 'gzip' ? ['-z'] : compression === 'zstd' ? ['--zstd'] : [];
    const r = spawnSync('tar', ['--format=posix', ...flag, '-C', root, '-cf', out, '.'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    rmSync(root, { recursive: true });
    return out;
  }

  async function setup(t: TestContext): Promise<boolean> {
    if (ready !== undefined) {
      if (!ready) t.skip('setup failed or is missing a part (see the first test)');
      return ready;
    }
    ready = false;
    if (!criuFor(t)) return false;
    writeFileSync(join(work, 'holder.c'), SOURCE);
    const cc = spawnSync('gcc', ['-O1', '-o', join(work, 'holder'), join(work, 'holder.c')], { encoding: 'utf8' });
    if (!requireOrSkip(t, !cc.error, 'gcc is missing (the test program is C)')) return false;
    assert.equal(cc.status, 0, cc.stderr);
    const log = join(work, 'holder.out');
    const { pid } = await trees.start(join(work, 'holder'), [NEEDLE], { log });
    await waitFor(() => lines(log).includes('ready'), 'the program to start');
    d1 = join(work, 'd1');
    d2 = join(work, 'd2');
    assert.equal((await cli(['dump', String(pid), '-D', d1, '--leave-running', '--json'])).status, 0);
    process.kill(pid, 'SIGUSR1');
    await waitFor(() => lines(log).includes('changed 1'), 'the program to change a page');
    assert.equal((await cli(['dump', String(pid), '-D', d2, '--leave-running', '--json'])).status, 0);
    for (const c of ['none', 'gzip', 'zstd'] as const) tars.set(c, buildTar(d1, `podman-${c}`, podman, c));
    tars.set('crio', buildTar(d1, 'crio', crio, 'none'));
    tars.set('later', buildTar(d2, 'later', podman, 'zstd'));
    ready = true;
    return true;
  }

  const strip = (m: { dir?: string; container?: unknown }) => ({ ...m, dir: undefined, container: undefined });

  for (const c of ['none', 'gzip', 'zstd']) {
    it(`a podman archive (${c}): inspect, x, mem, stats and report see what the directory holds, and the container`, async (t) => {
      if (!(await setup(t))) return;
      const tar = tars.get(c)!;
      const ours = await cli(['inspect', tar, '--json']);
      assert.equal(ours.status, 0, ours.stderr);
      const fromTar = JSON.parse(ours.stdout);
      const fromDir = JSON.parse((await cli(['inspect', d1, '--json'])).stdout);
      assert.deepEqual(strip(fromTar), strip(fromDir));
      assert.equal(fromTar.dir, tar);
      assert.deepEqual({ ...fromTar.container, artifacts: undefined }, {
        engine: 'podman', id: podman.config.id, name: 'magical_murdock', image: 'quay.io/example/hello:latest', imageId: 'sha256:0123abcd', runtime: 'crun',
        createdAt: podman.config.createdTime, checkpointedAt: podman.config.checkpointedTime, compression: c, artifacts: undefined,
      });
      assert.deepEqual(fromTar.container.artifacts.map((a: { name: string }) => a.name).sort(), ['network.status', 'rootfs-diff.tar']);
      const text = await cli(['inspect', tar]);
      assert.match(text.stdout, /container magical_murdock {2}image quay\.io\/example\/hello:latest {2}runtime crun/);
      for (const view of ['ps', 'fds', 'mems', 'rss']) assert.equal((await cli(['x', tar, view])).stdout, (await cli(['x', d1, view])).stdout, `x ${view}`);
      const mem = JSON.parse((await cli(['mem', tar, '--search', NEEDLE, '--json'])).stdout);
      assert.ok(mem.count >= 1, 'the needle is found in the archive');
      assert.deepEqual(mem, JSON.parse((await cli(['mem', d1, '--search', NEEDLE, '--json'])).stdout));
      // stats-dump sits at the archive's top level, as the engines put it
      const stats = await cli(['stats', tar, '--json']);
      assert.equal(stats.status, 0, stats.stderr);
      assert.deepEqual(JSON.parse(stats.stdout), JSON.parse((await cli(['stats', d1, '--json'])).stdout));
      const report = JSON.parse((await cli(['report', tar, '--json'])).stdout);
      assert.equal(report.container.name, 'magical_murdock');
      assert.deepEqual(strip(report.inspect), strip(fromDir));
      const html = await cli(['report', tar]);
      assert.match(html.stdout, /magical_murdock/);
      assert.match(html.stdout, /quay\.io\/example\/hello:latest/);
      const v = await cli(['verify', tar, '--json']);
      assert.equal(v.status, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).archive, tar);
    });
  }

  it('a CRI-O (Kubernetes) archive names the container, pod and namespace from spec.dump', async (t) => {
    if (!(await setup(t))) return;
    const m = JSON.parse((await cli(['inspect', tars.get('crio')!, '--json'])).stdout);
    assert.equal(m.container.engine, 'cri-o');
    assert.equal(m.container.pod, 'counters');
    assert.equal(m.container.namespace, 'default');
    assert.equal(m.container.runtime, 'runc');
    assert.equal(m.container.image, 'quay.io/example/counter:latest');
  });

  it('diff of two archives is the diff of their directories', async (t) => {
    if (!(await setup(t))) return;
    const a = await cli(['diff', tars.get('zstd')!, tars.get('later')!, '--json']);
    const b = await cli(['diff', d1, d2, '--json']);
    assert.equal(a.status, 1);
    const da = JSON.parse(a.stdout);
    const db = JSON.parse(b.stdout);
    assert.deepEqual({ ...da, a: undefined, b: undefined }, { ...db, a: undefined, b: undefined });
    assert.ok(da.processes.some((p: { changedPages: number }) => p.changedPages >= 1));
  });

  it('a damaged archive and a tar without images fail with exit 4 and a hint', async (t) => {
    if (!(await setup(t))) return;
    const empty = join(work, 'empty.tar');
    writeFileSync(join(work, 'just-a-file'), 'x');
    spawnSync('tar', ['-C', work, '-cf', empty, 'just-a-file']);
    const r = await cli(['inspect', empty]);
    assert.equal(r.status, 4);
    assert.match(r.stderr, /^cryo: error: .*a tar without CRIU images/m);
    assert.match(r.stderr, /^hint: /m);
    const cut = join(work, 'cut.tar');
    const whole = readFileSync(tars.get('none')!);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const v = await cli(['verify', cut]);
    assert.equal(v.status, 4, v.stderr);
    assert.match(v.stderr, /truncated/);
  });
});
