// Hostile and broken checkpoints through every command that reads one (issue 10's crash inputs):
// a flipped mm image under diff, a pagemap with a huge count under x rss, a parent link loop, a
// 600 MB JSON to encode, cryo.json and manifests lacking fields, truncated and corrupted images,
// FIFOs and devices in place of images. Each exits 4 with one `cryo: error:` line and a hint, in time.
import assert from 'node:assert/strict';
import { cpSync, closeSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { decodeImage, encodeImage } from '../../src/images/index.js';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { cli, tempDir, Trees, type CliResult } from '../helpers/trees.js';

const trees = new Trees();
let work: string;
let base: string;
let archive: string;
let pid1: number;
let ready = false;

/** A copy of the pristine checkpoint to damage. */
function copy(name: string): string {
  const d = join(work, name);
  rmSync(d, { recursive: true, force: true });
  cpSync(base, d, { recursive: true });
  return d;
}

/** Decode an image of `dir`, let `edit` change its entries, encode it back. */
function editImage(dir: string, name: string, edit: (entries: Array<Record<string, any>>) => void): void {
  const img = decodeImage(readFileSync(join(dir, name)), { name });
  edit(img.entries as Array<Record<string, any>>);
  writeFileSync(join(dir, name), encodeImage(img));
}

function editMeta(dir: string, edit: (m: Record<string, any>) => void): void {
  const m = JSON.parse(readFileSync(join(dir, 'cryo.json'), 'utf8')) as Record<string, any>;
  edit(m);
  rmSync(join(dir, 'cryo.json'));
  writeFileSync(join(dir, 'cryo.json'), JSON.stringify(m), { mode: 0o600 });
}

/** Exit 4, one error line with a hint, nothing else on stderr. */
function assertRefused(r: CliResult, what: string, pattern?: RegExp): void {
  assert.equal(r.status, 4, `${what}: exit ${r.status}\n${r.stderr}`);
  assertOneError(r, what);
  if (pattern) assert.match(r.stderr, pattern, what);
}

function assertOneError(r: CliResult, what: string): void {
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${what}: ${r.stderr}`);
  const errs = r.stderr.split('\n').filter(Boolean);
  assert.equal(errs.length, 2, `${what}: expected an error and a hint, got:\n${r.stderr}`);
  assert.match(errs[0]!, /^cryo: error: /, what);
  assert.match(errs[1]!, /^hint: /, what);
}

/** Works or refuses cleanly (exit 4, or 1 for a diff that differs / a search that finds nothing), never a crash. */
function assertNoCrash(r: CliResult, what: string): void {
  assert.notEqual(r.status, null, `${what}: killed (a hang)`);
  if (r.status === 0) return;
  if (r.status === 1 && r.stderr === '') return;
  assert.equal(r.status, 4, `${what}: exit ${r.status}\n${r.stderr}`);
  assertOneError(r, what);
}

/** Every command that reads a checkpoint directory, with a bound on its time. */
function readers(d: string): string[][] {
  const out = join(work, 'mem.out');
  return [
    ['inspect', d], ['x', d, 'ps'], ['x', d, 'fds'], ['x', d, 'mems'], ['x', d, 'rss'],
    ['mem', d, '--search', 'cryo-hostile'], ['mem', d, '--pid', String(pid1), '--dump', '0x0+4096', '-o', out],
    ['stats', d], ['diff', base, d], ['diff', d, base], ['verify', d],
  ];
}

async function run(args: string[]): Promise<CliResult> {
  return cli(args, { timeoutMs: 30_000, schema: false });
}

describe('hostile checkpoints', () => {
  before(() => {
    work = tempDir('cryo-hostile-');
  });
  after(() => {
    trees.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  async function setup(t: TestContext): Promise<boolean> {
    if (ready) return true;
    if (!requireOrSkip(t, criuFor(t) !== undefined, 'needs root and CRIU')) return false;
    const prog = 'x=cryo-hostile-needle; sleep 100000 & sleep 100000 & wait';
    for (const [flag, dest] of [['-D', join(work, 'base')], ['-o', join(work, 'base.cryo')]] as const) {
      const ran = await cli(['run', '--', 'bash', '-c', prog]);
      assert.equal(ran.status, 0, ran.stderr);
      const pid = trees.track(Number(ran.stdout.trim()));
      const d = await cli(['dump', String(pid), flag, dest]);
      assert.equal(d.status, 0, d.stderr);
    }
    base = join(work, 'base');
    archive = join(work, 'base.cryo');
    const ps = decodeImage(readFileSync(join(base, 'pstree.img')), { name: 'pstree.img' });
    pid1 = Number((ps.entries[0] as Record<string, any>).pid);
    ready = true;
    return true;
  }

  it('diff of a one-bit-flipped mm image (a VMA end off its page): exit 4, not "targetEnd out of range"', async (t) => {
    if (!(await setup(t))) return;
    const d = copy('mm-flip');
    editImage(d, `mm-${pid1}.img`, (e) => {
      const v = e[0]!.vmas.find((x: any) => BigInt(x.end) - BigInt(x.start) >= 8192n);
      v.end = BigInt(v.end) ^ 0x10n;
    });
    assertRefused(await run(['diff', base, d]), 'diff', /mm-\d+\.img .*VMA \d+ .* unaligned/);
    assertRefused(await run(['diff', d, base]), 'diff reversed');
    for (const args of readers(d)) assertNoCrash(await run(args), args.join(' '));
  });

  it('x rss of a pagemap with a huge page count: exit 4', async (t) => {
    if (!(await setup(t))) return;
    const d = copy('pagemap-huge');
    editImage(d, `pagemap-${pid1}.img`, (e) => { e[1]!.nr_pages = 0xffffffff; });
    assertRefused(await run(['x', d, 'rss']), 'x rss', /pagemap-\d+\.img/);
    assertRefused(await run(['mem', d, '--search', 'x']), 'mem --search');
    for (const args of readers(d)) assertNoCrash(await run(args), args.join(' '));
  });

  it('a parent symlink loop (with in_parent pages): exit 4, no stack overflow', async (t) => {
    if (!(await setup(t))) return;
    // parent -> itself; a -> b -> a; parent -> parent (dangling: no parent, the pages read as not dumped)
    for (const target of ['.', 'cycle', 'parent']) {
      const d = copy('parent-loop');
      if (target === 'cycle') {
        const other = copy('parent-loop-b');
        symlinkSync(d, join(other, 'parent'));
        symlinkSync(other, join(d, 'parent'));
        editImage(other, `pagemap-${pid1}.img`, (e) => { for (const x of e.slice(1)) x.flags = 1; });
      } else symlinkSync(target, join(d, 'parent'));
      editImage(d, `pagemap-${pid1}.img`, (e) => { for (const x of e.slice(1)) x.flags = 1; });
      const r = await run(['mem', d, '--search', 'cryo-hostile']);
      if (target === 'parent') assertNoCrash(r, 'mem --search, parent -> parent');
      else assertRefused(r, `mem --search, parent -> ${target}`, /parent chain .* loops back/);
      for (const args of readers(d)) assertNoCrash(await run(args), `${args.join(' ')} (parent -> ${target})`);
    }
  });

  it('encode of a 600 MB JSON: refused at once, with the option that raises the limit', async () => {
    const big = join(work, 'big.json');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 600 << 20);
    closeSync(fd);
    const t0 = Date.now();
    assertRefused(await run(['encode', '-i', big, '-o', join(work, 'big.img')]), 'encode', /larger than the \d+ bytes/);
    assert.match((await run(['encode', '-i', big])).stderr, /--max-input-size/);
    assert.ok(Date.now() - t0 < 20_000);
    // stdin is bounded the same way, while it is read
    const r = spawnSync(process.execPath, [new URL('../../src/cli/main.js', import.meta.url).pathname, 'encode', '--max-input-size', '1K'], { input: Buffer.alloc(4096, 0x20), encoding: 'utf8' });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /^cryo: error: <stdin> is larger than the 1024 bytes this command reads\nhint: /);
    rmSync(big);
  });

  it('cryo.json lacking fields or with odd types: every command exits 4', async (t) => {
    if (!(await setup(t))) return;
    const edits: Array<[string, (m: Record<string, any>) => void]> = [
      ['no host', (m) => { delete m.host; }],
      ['no tree', (m) => { delete m.tree; }],
      ['no restoreOptions', (m) => { delete m.restoreOptions; }],
      ['files a string', (m) => { m.files = 'x'; }],
      ['tree.processes an object', (m) => { m.tree.processes = {}; }],
      ['a null file', (m) => { m.files[0] = null; }],
      ['a file named ../x', (m) => { m.files[0].name = '../x'; }],
      ['version 3', (m) => { m.version = 3; }],
      ['totalBytes a string', (m) => { m.totalBytes = '1'; }],
    ];
    for (const [what, edit] of edits) {
      const d = copy('meta');
      editMeta(d, edit);
      for (const args of [...readers(d).filter((a) => a[1] !== base), ['restore', '-D', d]]) {
        assertRefused(await run(args), `${args[0]} ${args[2] ?? ''} (${what})`, /cryo\.json/);
      }
    }
    const d = copy('meta-junk');
    rmSync(join(d, 'cryo.json'));
    writeFileSync(join(d, 'cryo.json'), '[1,', { mode: 0o600 });
    assertRefused(await run(['inspect', d]), 'inspect (cryo.json not JSON)', /not valid JSON/);
  });

  it('an archive manifest lacking fields: inspect, x, stats, verify and restore exit 4', async (t) => {
    if (!(await setup(t))) return;
    const src = readFileSync(archive);
    const len = src.readUInt32LE(12);
    const manifest = JSON.parse(src.subarray(16, 16 + len).toString('utf8')) as Record<string, any>;
    for (const drop of ['host', 'tree', 'files', 'dumpOptions']) {
      const m = { ...manifest };
      delete m[drop];
      const mj = Buffer.from(JSON.stringify(m));
      const head = Buffer.from(src.subarray(0, 16));
      head.writeUInt32LE(mj.length, 12);
      const a = join(work, `no-${drop}.cryo`);
      writeFileSync(a, Buffer.concat([head, mj, src.subarray(16 + len)]));
      for (const args of [['inspect', a], ['x', a, 'ps'], ['stats', a], ['verify', a], ['restore', '-i', a]]) {
        assertRefused(await run(args), `${args.join(' ')} (no ${drop})`);
      }
    }
  });

  it('truncated and corrupted images: every reader works or exits 4, none crashes or hangs', async (t) => {
    if (!(await setup(t))) return;
    const cases: Array<[string, string]> = [
      ['pstree.img', 'half'], [`core-${pid1}.img`, 'flip'], [`mm-${pid1}.img`, 'half'], [`mm-${pid1}.img`, 'flip'], [`pagemap-${pid1}.img`, 'flip'],
      [`pagemap-${pid1}.img`, 'empty'], ['files.img', 'flip'], ['inventory.img', 'empty'], ['pages-1.img', 'half'],
    ];
    for (const [name, how] of cases) {
      {
        const d = copy('damaged');
        const b = readFileSync(join(d, name));
        const bad = how === 'half' ? b.subarray(0, b.length >> 1) : how === 'empty' ? Buffer.alloc(0) : Buffer.from(b);
        if (how === 'flip') for (let k = 12; k < bad.length; k += 97) bad[k]! ^= 0x41;
        rmSync(join(d, name));
        writeFileSync(join(d, name), bad);
        for (const args of readers(d)) assertNoCrash(await run(args), `${args.join(' ')} (${name} ${how})`);
        if (name !== 'pages-1.img') {
          for (const cmd of ['decode', 'show', 'info']) {
            const r = await run(cmd === 'decode' ? ['decode', '-i', join(d, name)] : [cmd, join(d, name)]);
            assertNoCrash(r, `${cmd} ${name} (${how})`);
          }
        }
      }
    }
  });

  it('a FIFO, /dev/zero or a directory in place of an image: exit 4 within seconds', async (t) => {
    if (!(await setup(t))) return;
    for (const [name, kind] of [[`mm-${pid1}.img`, 'fifo'], ['pages-1.img', 'fifo'], ['cryo.json', 'fifo'], ['pages-1.img', 'zero'], [`mm-${pid1}.img`, 'zero'], ['pstree.img', 'dir']]) {
      {
        const d = copy('planted');
        rmSync(join(d, name));
        if (kind === 'fifo') spawnSync('mkfifo', ['-m', '600', join(d, name)]);
        else if (kind === 'zero') symlinkSync('/dev/zero', join(d, name));
        else cpSync(join(base, '..', 'base'), join(d, name), { recursive: true });
        assertRefused(await run(['mem', d, '--search', 'cryo-hostile']), `mem --search (${name} a ${kind})`);
        for (const args of readers(d)) assertNoCrash(await run(args), `${args.join(' ')} (${name} a ${kind})`);
      }
    }
  });
});
