// The report's pieces without CRIU: the tar reader (ustar, pax, GNU long names, small chunks,
// truncation), container tar detection and config/spec parsing, and the HTML page's hygiene
// (no script, nothing loaded, the dumped program's text escaped).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readContainerInfo } from '../../src/checkpoint/container-info.js';
import { isContainerTar, openContainerTar } from '../../src/checkpoint/source-container-tar.js';
import { readTar } from '../../src/checkpoint/tar-read.js';
import { renderReportHtml } from '../../src/cli/render/report/html.js';
import { renderReportText } from '../../src/cli/render/report/text.js';
import type { ReportModel } from '../../src/inspect/report.js';

const tmp = mkdtempSync(join(tmpdir(), 'cryo-unit-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function entries(b: Buffer, size = 7): Promise<Array<{ name: string; type: string; body: string }>> {
  const out: Array<{ name: string; type: string; body: string }> = [];
  await readTar(chunks(b, size), async (e, body) => {
    const parts: Buffer[] = [];
    for await (const p of body) parts.push(p);
    out.push({ name: e.name, type: e.type, body: Buffer.concat(parts).toString() });
  });
  return out;
}

function makeTree(): string {
  const root = join(tmp, `tree-${Math.random().toString(16).slice(2)}`);
  const long = `${'d'.repeat(60)}/${'e'.repeat(70)}`;
  mkdirSync(join(root, 'checkpoint'), { recursive: true });
  mkdirSync(join(root, long), { recursive: true });
  writeFileSync(join(root, 'checkpoint', 'inventory.img'), 'INV');
  writeFileSync(join(root, 'config.dump'), '{"name":"web"}');
  writeFileSync(join(root, long, `${'f'.repeat(120)}.txt`), 'x'.repeat(1500));
  return root;
}

for (const format of ['posix', 'gnu', 'ustar']) {
  test(`readTar reads a ${format} tar fed in 7-byte chunks, long names included`, async () => {
    const root = makeTree();
    const tar = join(tmp, `t-${format}.tar`);
    const args = ['--format', format, '-C', root, '-cf', tar, '--sort=name', 'checkpoint', 'config.dump'];
    if (format !== 'ustar') args.push('d'.repeat(60));
    const r = spawnSync('tar', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = await entries(readFileSync(tar));
    const files = got.filter((e) => e.type === '0');
    assert.deepEqual(files.map((e) => e.name).slice(0, 2), ['checkpoint/inventory.img', 'config.dump']);
    assert.equal(files[0]!.body, 'INV');
    if (format !== 'ustar') {
      const longFile = files.find((e) => e.name.endsWith('.txt'))!;
      assert.equal(longFile.name, `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(120)}.txt`);
      assert.equal(longFile.body, 'x'.repeat(1500));
    }
  });
}

test('readTar: a truncated tar and a damaged header are BAD_ARCHIVE', async () => {
  const root = makeTree();
  const tar = join(tmp, 'cut.tar');
  spawnSync('tar', ['-C', root, '-cf', tar, 'checkpoint', 'config.dump']);
  const b = readFileSync(tar);
  await assert.rejects(entries(b.subarray(0, 700)), (e: Error & { code?: string }) => e.code === 'BAD_ARCHIVE' && /truncated/.test(e.message));
  const bad = Buffer.from(b);
  bad[10] = bad[10]! ^ 0xff;
  await assert.rejects(entries(bad), (e: Error & { code?: string }) => e.code === 'BAD_ARCHIVE' && /checksum/.test(e.message));
});

test('isContainerTar: plain, gzip and zstd tars yes; a cryo archive, text, a directory no', async () => {
  const root = makeTree();
  const plain = join(tmp, 'c.tar');
  spawnSync('tar', ['-C', root, '-cf', plain, '.']);
  const gz = join(tmp, 'c.tar.gz');
  spawnSync('tar', ['-C', root, '-czf', gz, '.']);
  const zst = join(tmp, 'c.tar.zst');
  spawnSync('tar', ['--zstd', '-C', root, '-cf', zst, '.']);
  for (const f of [plain, gz, zst]) assert.equal(await isContainerTar(f), true, f);
  writeFileSync(join(tmp, 'cryo.ckpt'), Buffer.concat([Buffer.from('CRYOCKPT'), Buffer.alloc(600)]));
  writeFileSync(join(tmp, 'notes.txt'), 'hello '.repeat(200));
  for (const f of [join(tmp, 'cryo.ckpt'), join(tmp, 'notes.txt'), root, join(tmp, 'missing')]) assert.equal(await isContainerTar(f), false, f);
  // a tar without checkpoint/inventory.img is refused with a hint
  const noImages = join(tmp, 'no-images.tar');
  spawnSync('tar', ['-C', root, '-cf', noImages, 'config.dump']);
  await assert.rejects(openContainerTar(noImages), (e: Error & { code?: string; hint?: string }) => e.code === 'BAD_ARCHIVE' && /without CRIU images/.test(e.message) && Boolean(e.hint));
});

test('readContainerInfo: podman config.dump + spec.dump; CRI-O annotations; nothing without either', () => {
  const dir = join(tmp, 'info');
  mkdirSync(dir);
  assert.equal(readContainerInfo(dir), undefined);
  writeFileSync(join(dir, 'config.dump'), JSON.stringify({ id: 'abc', name: 'web', rootfsImageName: 'quay.io/x/web:1', runtime: 'crun', createdTime: '2026-01-01T00:00:00Z', checkpointedTime: '0001-01-01T00:00:00Z' }));
  writeFileSync(join(dir, 'spec.dump'), JSON.stringify({ annotations: { 'io.container.manager': 'libpod' } }));
  assert.deepEqual(readContainerInfo(dir), { engine: 'podman', id: 'abc', name: 'web', image: 'quay.io/x/web:1', runtime: 'crun', createdAt: '2026-01-01T00:00:00Z' });
  writeFileSync(join(dir, 'config.dump'), 'not json');
  writeFileSync(join(dir, 'spec.dump'), JSON.stringify({ annotations: { 'io.kubernetes.cri-o.ImageName': 'quay.io/x/c:2', 'io.kubernetes.container.name': 'c', 'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'ns' } }));
  assert.deepEqual(readContainerInfo(dir), { engine: 'cri-o', name: 'c', image: 'quay.io/x/c:2', pod: 'p', namespace: 'ns' });
});

const hostile = '<script>alert(1)</script>\x1b[31m';
const model: ReportModel = {
  format: 'cryo-report', version: 1, checkpoint: '/abs/ckpt',
  container: { name: `web${hostile}`, image: 'quay.io/x/web:1', runtime: 'crun' },
  inspect: { dir: '/abs/ckpt', processes: [{
    pid: 1, ppid: 0, pgid: 1, sid: 1, comm: hostile, state: 'alive', cmdline: [hostile, '--x'], threads: 1, tasks: [{ tid: 1 }], namespaces: { pid: 4026531836 },
    fds: [], mappings: [
      { start: '0x1000', end: '0x3000', size: 8192, prot: 'rw-', shared: false, name: '[heap]', dumpedPages: 1 },
      { start: '0x5000', end: '0x9000', size: 16384, prot: 'r-x', shared: false, name: `/bin/${hostile}`, dumpedPages: 0 },
    ],
    memory: { mappedBytes: 24576, dumpedPages: 1, dumpedBytes: 4096 }, children: [],
  }] },
  stats: { dump: { freezing_time: 100, frozen_time: 5000, memdump_time: 1000, memwrite_time: 500, pages_scanned: 10, pages_skipped_parent: 0, pages_written: 3, pages_lazy: 0 } },
  connections: [{ id: 'tcp-a-b', kind: 'tcp', label: `tcp ${hostile}`, ends: [{ pid: 1, fd: 3 }, { external: 'ext1' }] }],
  external: [{ id: 'ext1', kind: 'tcp', label: 'tcp 10.0.0.1:80' }],
  memory: [{ pid: 1, kinds: [{ kind: 'heap', mappings: 1, mappedBytes: 8192, dumpedBytes: 4096 }, { kind: 'file', mappings: 1, mappedBytes: 16384, dumpedBytes: 0 }] }],
  files: [{ path: `/bin/${hostile}`, uses: [{ pid: 1, as: 'map', mappings: 1 }] }],
};

test('the HTML page: no script, nothing to load, text escaped, bars proportional, peers outside drawn', () => {
  const html = renderReportHtml(model);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\x1b/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\\x1b\[31m/);
  // nothing fetched: no src=, no url(), no link, no @import
  assert.doesNotMatch(html, /\ssrc=|url\(|<link|@import/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const bars = [...html.matchAll(/<rect class="bar mapped m-(\w+)" data-bytes="(\d+)" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])] as const);
  assert.deepEqual(bars.map((b) => b[0]), ['heap', 'file']);
  assert.ok(Math.abs(bars[0]![2] / bars[1]![2] - 8192 / 16384) < 1e-3);
  assert.match(html, /<g class="node ext" data-external="ext1">/);
  assert.match(html, /data-kind="tcp" data-pids="1" data-external="ext1"/);
  assert.match(html, /prefers-color-scheme:dark/);
  assert.match(html, /@media print/);
  const text = renderReportText(model);
  assert.doesNotMatch(text, /\x1b/);
  assert.match(text, /container web<script>alert\(1\)<\/script>\\x1b\[31m {2}image quay\.io\/x\/web:1 {2}runtime crun/);
  assert.match(text, /outside: tcp 10\.0\.0\.1:80/);
});

test('the timeline labels keep the zeros of whole numbers (200 ms is not 2 ms)', async () => {
  const { humanMicros } = await import('../../src/cli/render/text.js');
  assert.deepEqual([200_000, 100_000, 2_000, 1_500, 10_000, 20_000_000].map(humanMicros), ['200 ms', '100 ms', '2 ms', '1.5 ms', '10 ms', '20 s']);
  const html = renderReportHtml({ ...model, stats: { dump: { ...model.stats!.dump!, frozen_time: 200_000 } } });
  assert.match(html, /data-stat="frozen_time" data-us="200000"[^>]*><title>frozen_time 200 ms<\/title>/);
});
