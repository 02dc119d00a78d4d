// cryo report of real checkpoints in a real headless Chromium (Debian's, driven by puppeteer-core):
// a tree with a pipe, a socketpair, a TCP connection and shared memory; a 20,000-mapping process;
// a diff of two dumps. Asserts on the DOM against inspect --json, that nothing is fetched from the
// network, and saves screenshots under test-artifacts/report/ (CI keeps them as artifacts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { cli, lines, repoRoot, Trees, waitFor } from '../helpers/trees.js';

const CHROMIUM = process.env.CRYO_CHROMIUM ?? '/usr/bin/chromium';
/** where the screenshots go (gitignored; CI uploads the directory) */
const ARTIFACTS = join(repoRoot, 'test-artifacts', 'report');

// parent: pipe read end, one socketpair end, the accepted TCP socket, shared memory; child "writer":
// the other ends and the TCP client; child "idle". SIGUSR1 changes pages 3 and 10 of a private region.
const TREE_C = `
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
static volatile sig_atomic_t pending;
static void on_usr1(int s) { (void)s; pending++; }
int main(void) {
  int pp[2], sv[2];
  if (pipe(pp) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
  char *shm = mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  memset(shm, 's', 8 * 4096);
  char *region = mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(region, 1, 64 * 4096);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sin;
  if (bind(ls, (struct sockaddr *)&sin, sizeof sin) || listen(ls, 4) || getsockname(ls, (struct sockaddr *)&sin, &sl)) return 1;
  signal(SIGUSR1, on_usr1);
  if (fork() == 0) {
    close(pp[0]); close(sv[0]); close(ls);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&sin, sizeof sin)) return 1;
    if (write(pp[1], "w", 1) != 1) return 1;
    for (;;) pause();
  }
  int a = accept(ls, 0, 0);
  char b;
  if (a < 0 || read(pp[0], &b, 1) != 1) return 1;
  close(pp[1]); close(sv[1]);
  if (fork() == 0) { for (;;) pause(); }
  printf("region %lx\\nready\\n", (unsigned long)region);
  fflush(stdout);
  int seen = 0;
  for (;;) {
    pause();
    while (seen < pending) {
      seen++;
      region[3 * 4096 + 5]++;
      region[10 * 4096]++;
      printf("changed %d\\n", seen);
      fflush(stdout);
    }
  }
}
`;

const MANY_C = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  for (long i = 0; i < n; i++) {
    char *p = mmap(0, 4096, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    p[0] = 1;
  }
  printf("ready\\n");
  fflush(stdout);
  for (;;) pause();
}
`;

function hasChromium(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function compile(src: string, dir: string, name: string): string | undefined {
  writeFileSync(join(dir, `${name}.c`), src);
  const r = spawnSync('gcc', ['-O1', '-o', join(dir, name), join(dir, `${name}.c`)], { encoding: 'utf8' });
  if (r.error) return undefined;
  if (r.status !== 0) throw new Error(`gcc: ${r.stderr}`);
  return join(dir, name);
}

type Browser = import('puppeteer-core').Browser;
type Page = import('puppeteer-core').Page;

/** Opens `file` in a fresh page with every request outside the file itself refused and recorded. */
async function openReport(browser: Browser, file: string, dark = false): Promise<{ page: Page; requests: string[]; loadMs: number }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  if (dark) await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  const requests: string[] = [];
  await page.setRequestInterception(true);
  const url = `file://${file}`;
  page.on('request', (req) => {
    if (req.url() === url) return void req.continue();
    requests.push(req.url());
    void req.abort();
  });
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  const loadMs = performance.now() - t0;
  return { page, requests, loadMs };
}

describe('cryo report in Chromium', () => {
  const trees = new Trees();
  let browser: Browser | undefined;
  let work: string;
  let treePid = 0;
  let treeOut = '';
  let d1 = '';
  let d2 = '';
  let ready: boolean | undefined;

  before(() => {
    work = trees.dir('cryo-report-');
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    trees.cleanup();
  });

  async function setup(t: TestContext): Promise<boolean> {
    if (ready !== undefined) {
      if (!ready) t.skip('setup failed or is missing a part (see the first test)');
      return ready;
    }
    ready = false;
    if (!criuFor(t)) return false;
    if (!requireOrSkip(t, hasChromium(), `no chromium at ${CHROMIUM} (apt-get install chromium; scripts/test-tools.mjs does it)`)) return false;
    const bin = compile(TREE_C, work, 'tree');
    if (!requireOrSkip(t, bin !== undefined, 'gcc is missing (the test programs are C)')) return false;
    treeOut = join(work, 'tree.out');
    treePid = (await trees.start(bin!, [], { log: treeOut, cwd: work })).pid;
    await waitFor(() => lines(treeOut).includes('ready'), 'the tree to start');
    d1 = join(work, 'd1');
    d2 = join(work, 'd2');
    const r1 = await cli(['dump', String(treePid), '-D', d1, '--leave-running', '--tcp-established', '--json']);
    assert.equal(r1.status, 0, r1.stderr);
    process.kill(treePid, 'SIGUSR1');
    await waitFor(() => lines(treeOut).includes('changed 1'), 'the tree to change its pages');
    const r2 = await cli(['dump', String(treePid), '-D', d2, '--leave-running', '--tcp-established', '--json']);
    assert.equal(r2.status, 0, r2.stderr);
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    ready = true;
    return true;
  }

  it('draws every process, connection and memory bar of a tree with a pipe, a socketpair, TCP and shared memory', async (t) => {
    if (!(await setup(t))) return;
    const inspect = JSON.parse((await cli(['inspect', d1, '--json'])).stdout);
    const out = join(work, 'tree.html');
    const r = await cli(['report', d1, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const json = JSON.parse((await cli(['report', d1, '--format', 'json'])).stdout);
    const { page, requests } = await openReport(browser!, out);
    try {
      // every process: a card in the tree, a node in the graph, a memory block
      const pids = inspect.processes.map((p: { pid: number }) => p.pid).sort();
      assert.ok(pids.length >= 4, `a tree of at least 4 processes (cryo-init, parent, 2 children), got ${pids}`);
      for (const sel of ['#tree li.proc', '#connections g.node[data-pid]', '#memory div.memproc']) {
        const got = await page.$$eval(sel, (els) => els.map((e) => Number(e.getAttribute('data-pid'))));
        assert.deepEqual(got.sort(), pids, sel);
      }
      // every connection the model found is drawn and listed; the four kinds the program made are there
      const drawn = await page.$$eval('#connections g.conn', (els) => els.map((e) => ({ id: e.getAttribute('data-id'), kind: e.getAttribute('data-kind'), pids: e.getAttribute('data-pids') })));
      assert.deepEqual(drawn.map((c) => c.id).sort(), json.connections.map((c: { id: string }) => c.id).sort());
      const kinds = new Set(drawn.map((c) => c.kind));
      for (const k of ['pipe', 'unix', 'tcp', 'shm']) assert.ok(kinds.has(k), `a ${k} connection is drawn (have ${[...kinds]})`);
      // the pipe and the socketpair link the parent and the writer child, as inspect --json says
      const parent = inspect.processes.find((p: { fds: Array<{ type: string }> }) => p.fds.some((f) => f.type === 'INETSK' && /ESTABLISHED/.test(JSON.stringify(f))) && p.fds.some((f) => f.type === 'PIPE'));
      assert.ok(parent, 'the parent holds a pipe and an established TCP socket');
      const pipe = drawn.find((c) => c.kind === 'pipe')!;
      // the parent, the writer and the idle child (which inherited the read end)
      assert.equal(pipe.pids!.split(',').length, 3);
      assert.ok(pipe.pids!.split(',').map(Number).includes(parent.pid));
      const tcp = drawn.find((c) => c.kind === 'tcp')!;
      // both ends are in the tree: the parent's accepted socket (the idle child inherited it) and the writer's
      assert.ok(tcp.pids!.split(',').length >= 2 && !drawn.some((c) => c.kind === 'tcp' && c.id === tcp.id && c.pids === null));
      assert.equal(await page.$$eval('#connections g.conn[data-kind="tcp"][data-external]', (els) => els.length), 0, 'no TCP peer outside the tree');
      // bars: widths proportional to bytes, and the bytes are inspect --json's
      for (const p of inspect.processes) {
        if (!p.mappings.length) continue;
        const bars = await page.$$eval(`#memory svg.mem[data-pid="${p.pid}"] rect.bar`, (els) => els.map((e) => ({ bytes: Number(e.getAttribute('data-bytes')), w: e.getBoundingClientRect().width, mapped: e.classList.contains('mapped') })));
        const mapped = bars.filter((b) => b.mapped);
        assert.equal(mapped.reduce((n, b) => n + b.bytes, 0), p.memory.mappedBytes, `pid ${p.pid}: mapped bytes`);
        assert.equal(bars.filter((b) => !b.mapped).reduce((n, b) => n + b.bytes, 0), p.memory.dumpedBytes, `pid ${p.pid}: dumped bytes`);
        const big = mapped.reduce((a, b) => (b.bytes > a.bytes ? b : a));
        for (const b of bars) assert.ok(Math.abs(b.w - (b.bytes / big.bytes) * big.w) < 1, `pid ${p.pid}: a ${b.bytes}-byte bar is ${b.w}px, the ${big.bytes}-byte one ${big.w}px`);
      }
      // the timeline has CRIU's numbers
      const frozen = await page.$eval('#stats rect[data-stat="frozen_time"]', (e) => Number(e.getAttribute('data-us')));
      assert.equal(frozen, json.stats.dump.frozen_time);
      assert.deepEqual(requests, [], 'the page loads nothing');
      // the text format tells the same facts: every process and every connection
      const text = (await cli(['report', d1, '--format', 'text'])).stdout;
      for (const p of inspect.processes) assert.match(text, new RegExp(`^ +${p.pid} `, 'm'));
      for (const c of json.connections) assert.ok(text.includes(c.label), `text has ${c.label}`);
      await page.screenshot({ path: join(ARTIFACTS, 'tree.png'), fullPage: true });
      copyFileSync(out, join(ARTIFACTS, 'tree.html'));
      const dark = await openReport(browser!, out, true);
      await dark.page.screenshot({ path: join(ARTIFACTS, 'tree-dark.png'), fullPage: true });
      await dark.page.close();
    } finally {
      await page.close();
    }
  });

  it('a report of two dumps shows the changed pages where the program changed them', async (t) => {
    if (!(await setup(t))) return;
    const out = join(work, 'diff.html');
    const r = await cli(['report', d1, d2, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const diff = JSON.parse((await cli(['diff', d1, d2, '--json'])).stdout);
    const { page, requests } = await openReport(browser!, out);
    try {
      const strips = await page.$$eval('#diff tr.heat', (els) => els.map((e) => ({ pid: Number(e.getAttribute('data-pid')), start: e.getAttribute('data-start') ?? '', changed: Number(e.getAttribute('data-changed')), cells: [...e.querySelectorAll('rect.cell')].map((c) => Number(c.getAttribute('data-changed'))) })));
      const expected = diff.processes.flatMap((p: { pid: number; memory: Array<{ mapping: { start: string }; changedPages: number }> }) => p.memory.map((m) => ({ pid: p.pid, start: m.mapping.start, changed: m.changedPages })));
      assert.deepEqual(strips.map(({ pid, start, changed }) => ({ pid, start, changed })).sort((a, b) => a.start.localeCompare(b.start) || a.pid - b.pid), expected.sort((a: { start: string; pid: number }, b: { start: string; pid: number }) => a.start.localeCompare(b.start) || a.pid - b.pid));
      // the region the program changed: its strip lights the cells of pages 3 and 10, and diff --json lists those pages
      const region = Number.parseInt(lines(treeOut).find((l) => l.startsWith('region '))!.split(' ')[1]!, 16);
      const change = diff.processes.flatMap((p: { memory: Array<{ mapping: { start: string; end: string }; pages: string[] }> }) => p.memory)
        .find((m: { mapping: { start: string; end: string } }) => Number(m.mapping.start) <= region && region < Number(m.mapping.end));
      assert.ok(change, 'diff --json has the region');
      const pages = change.pages.map(Number);
      for (const pg of [3, 10]) assert.ok(pages.includes(region + pg * 4096), `page ${pg} of the region changed`);
      const strip = strips.find((s) => s.start === change.mapping.start)!;
      const size = (Number(change.mapping.end) - Number(change.mapping.start)) / 4096;
      const cells = new Array(strip.cells.length).fill(0);
      for (const a of pages) cells[Math.floor(((a - Number(change.mapping.start)) / 4096) * cells.length / size)]++;
      assert.deepEqual(strip.cells, cells);
      assert.deepEqual(requests, []);
      await page.screenshot({ path: join(ARTIFACTS, 'diff.png'), fullPage: true });
      copyFileSync(out, join(ARTIFACTS, 'diff.html'));
    } finally {
      await page.close();
    }
  });

  it('a 20,000-mapping process: the report is small and opens fast (printed, not asserted)', async (t) => {
    if (!(await setup(t))) return;
    const bin = compile(MANY_C, work, 'many');
    const out = join(work, 'many.out');
    const { pid } = await trees.start(bin!, ['20000'], { log: out });
    await waitFor(() => lines(out).includes('ready'), 'the 20,000 mappings', 60_000);
    const dir = join(work, 'many-ckpt');
    const d = await cli(['dump', String(pid), '-D', dir, '--json'], { timeoutMs: 120_000 });
    assert.equal(d.status, 0, d.stderr);
    const html = join(work, 'many.html');
    const t0 = performance.now();
    const r = await cli(['report', dir, '-o', html], { timeoutMs: 120_000 });
    const genMs = performance.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    const bytes = statSync(html).size;
    assert.ok(bytes < 5 << 20, `the report is ${bytes} bytes (limit 5 MB)`);
    const inspect = JSON.parse((await cli(['inspect', dir, '--json'])).stdout);
    const big = inspect.processes.find((p: { mappings: unknown[] }) => p.mappings.length >= 20000);
    assert.ok(big, 'one process has 20,000 mappings');
    const { page, requests, loadMs } = await openReport(browser!, html);
    try {
      // the mappings are folded into groups whose counts add up to every mapping
      const groups = await page.$$eval(`#memory div.memproc[data-pid="${big.pid}"] tr.group`, (els) => els.map((e) => Number(e.getAttribute('data-mappings'))));
      const rest = await page.$$eval(`#memory div.memproc[data-pid="${big.pid}"] tr.rest`, (els) => els.length);
      if (!rest) assert.equal(groups.reduce((n, x) => n + x, 0), big.mappings.length);
      assert.ok(groups.length < 100, `${groups.length} groups`);
      assert.deepEqual(requests, []);
      console.log(`# 20,000-mapping report: ${(bytes / 1e6).toFixed(2)} MB, written in ${genMs.toFixed(0)} ms, opened in Chromium in ${loadMs.toFixed(0)} ms (goal < 2000 ms, < 5 MB)`);
      await page.screenshot({ path: join(ARTIFACTS, 'many-mappings.png') });
      await (await page.$('#memory'))!.screenshot({ path: join(ARTIFACTS, 'many-mappings-memory.png') });
    } finally {
      await page.close();
    }
    assert.ok(readFileSync(html, 'utf8').startsWith('<!doctype html>'));
  });
});
