// fuzz: hostile and broken checkpoints fed to every reader, in-process, seeded and replayable.
//   npm run fuzz -- --cases 100000 --seed 1 [--only N] [--timeout-ms 5000] [--keep DIR | --base DIR --archive FILE]
// Each case mutates one thing (bit flips, truncations, insertions, length fields, decoded fields,
// cryo.json keys, deleted files, symlinks, FIFOs, parent loops) of a checkpoint directory, an archive
// or a single image, then runs the readers. Anything thrown that is not a CryoError is a crash; a
// case over the time bound is a hang. Cases run in a worker that the main thread watches, so a hang
// is caught, named by its case number, and the run goes on. Not run in CI (minutes, needs a dump).
import { spawnSync } from 'node:child_process';
import {
  closeSync, constants, openSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CryoError } from '../src/errors.js';
import { prng } from '../test/helpers/images-fixtures.js';
import { decodeImage, encodeImage, imageFromJson, imageToJson, parseJson } from '../src/images/index.js';
import { JsonParseError } from '../src/images/json-parse.js';
import { openCheckpoint } from '../src/checkpoint/open.js';
import { assertComplete } from '../src/checkpoint/complete.js';
import { readMeta } from '../src/checkpoint/meta-file.js';
import { verify } from '../src/pipeline/verify.js';
import { ImageDir } from '../src/inspect/images.js';
import { inspectCheckpoint } from '../src/inspect/model.js';
import { exploreFds, exploreMems, explorePs, exploreRss } from '../src/inspect/explore.js';
import { dumpMemory, readMemory, searchMemory, checkpointPids } from '../src/inspect/search.js';
import { diffCheckpoints } from '../src/inspect/diff.js';
import { readCheckpointStats } from '../src/inspect/stats.js';

type Kind = 'dir' | 'archive' | 'image';
interface Setup { base: string; archive: string | null; work: string }
interface CaseResult { i: number; kind: Kind; mutation: string; outcome: 'ok' | 'refused' | 'crash'; code?: string; error?: string }


/** one case's generator: depends only on (seed, case number) so any case replays alone */
function caseRandom(seed: number, i: number): () => number {
  const r = prng((seed * 0x9e3779b1) ^ (i * 0x85ebca6b));
  r();
  return r;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const INTERESTING = [0, 1, -1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000, 2 ** 40, 2 ** 53, Number.MAX_SAFE_INTEGER];
const INTERESTING_BIG = [0n, 1n, (1n << 63n) - 1n, (1n << 64n) - 1n, 1n << 62n, 0x7fffffffffffn, 1n << 47n];

function mutateBytes(src: Buffer, r: () => number): { bytes: Buffer; how: string } {
  const b = Buffer.from(src);
  const at = Math.floor(r() * Math.max(1, b.length));
  switch (Math.floor(r() * 7)) {
    case 0: {
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n && b.length; k++) { const p = Math.floor(r() * b.length); b[p] ^= 1 << Math.floor(r() * 8); }
      return { bytes: b, how: `flip ${n} bits` };
    }
    case 1: return { bytes: b.subarray(0, at), how: `truncate at ${at}` };
    case 2: {
      const n = Math.min(b.length - at, 1 + Math.floor(r() * 16));
      for (let k = 0; k < n; k++) b[at + k] = Math.floor(r() * 256);
      return { bytes: b, how: `random ${n} bytes at ${at}` };
    }
    case 3: {
      if (b.length < 4) return { bytes: b, how: 'none' };
      const v = pick(r, [0, 0x7fffffff, 0xffffffff, 0x80000000, 1, 0xffff, 0x10000000]);
      const p = Math.max(0, Math.min(at & ~3, b.length - 4));
      b.writeUInt32LE(v, p);
      return { bytes: b, how: `u32 ${v} at ${p}` };
    }
    case 4: {
      const ins = pick(r, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.alloc(4), Buffer.from([0x80]), Buffer.from('{"a":')]);
      return { bytes: Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]), how: `insert ${ins.length} at ${at}` };
    }
    case 5: return { bytes: Buffer.concat([b, b.subarray(8, 8 + Math.floor(r() * 256))]), how: 'duplicate tail' };
    default: return { bytes: lengthFieldEdit(b, r), how: 'entry size edit' };
  }
}

/** edit one entry-size word of a CRIU image (u32 after the 8-byte magic pair, then per entry) */
function lengthFieldEdit(b: Buffer, r: () => number): Buffer {
  const sizes: number[] = [];
  let off = b.length >= 8 && b.readUInt32LE(4) !== 0 ? 8 : 4;
  while (off + 4 <= b.length && sizes.length < 10000) {
    sizes.push(off);
    const n = b.readUInt32LE(off);
    off += 4 + n;
  }
  if (!sizes.length) return b;
  const p = pick(r, sizes);
  const v = pick(r, [0, 1, b.readUInt32LE(p) + 1, b.readUInt32LE(p) - 1, 0x7fffffff, 0xffffffff, 1 << 20]);
  b.writeUInt32LE(v >>> 0, p);
  return b;
}

/** decode, set one integer field somewhere in one entry to an interesting value, encode */
function mutateField(src: Buffer, name: string, r: () => number): { bytes: Buffer; how: string } | null {
  let img;
  try {
    img = decodeImage(src, { name });
  } catch {
    return null;
  }
  const slots: Array<{ obj: any; key: string | number; path: string }> = [];
  const walk = (o: any, path: string, depth: number) => {
    if (depth > 6 || slots.length > 5000) return;
    if (Array.isArray(o)) o.forEach((v, k) => (typeof v === 'number' || typeof v === 'bigint' ? slots.push({ obj: o, key: k, path: `${path}[${k}]` }) : walk(v, `${path}[${k}]`, depth + 1)));
    else if (o && typeof o === 'object' && !Buffer.isBuffer(o)) {
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === 'number' || typeof v === 'bigint') slots.push({ obj: o, key: k, path: `${path}.${k}` });
        else walk(v, `${path}.${k}`, depth + 1);
      }
    }
  };
  img.entries.forEach((e, k) => walk(e, `[${k}]`, 0));
  if (!slots.length) return null;
  const s = pick(r, slots);
  const old = s.obj[s.key];
  const v = typeof old === 'bigint' ? pick(r, INTERESTING_BIG) : pick(r, INTERESTING);
  s.obj[s.key] = typeof old === 'bigint' ? v : Number(v);
  try {
    return { bytes: encodeImage(img), how: `field ${s.path}=${v}` };
  } catch {
    s.obj[s.key] = typeof old === 'bigint' ? BigInt.asUintN(64, BigInt(v)) : old;
    try { return { bytes: encodeImage(img), how: `field ${s.path}=${s.obj[s.key]}` }; } catch { return null; }
  }
}

/** cryo.json: drop a key, change a type, or break the syntax */
function mutateMeta(text: string, r: () => number): { text: string; how: string } {
  let v: any;
  try { v = JSON.parse(text); } catch { return { text: text.slice(0, Math.floor(r() * text.length)), how: 'truncate json' }; }
  const paths: Array<{ obj: any; key: string | number; path: string }> = [];
  const walk = (o: any, path: string, depth: number) => {
    if (depth > 4 || !o || typeof o !== 'object') return;
    for (const [k, x] of Object.entries(o)) {
      paths.push({ obj: o, key: Array.isArray(o) ? Number(k) : k, path: `${path}.${k}` });
      if (!(Array.isArray(o) && Number(k) > 3)) walk(x, `${path}.${k}`, depth + 1);
    }
  };
  walk(v, '', 0);
  const p = pick(r, paths);
  const how = Math.floor(r() * 3);
  if (how === 0) { if (Array.isArray(p.obj)) p.obj.splice(Number(p.key), 1); else delete p.obj[p.key]; return { text: JSON.stringify(v), how: `drop ${p.path}` }; }
  const odd = pick(r, [null, 0, -1, 1e300, '', 'x', '../../etc/passwd', [], {}, true, [1, 2], { a: 1 }, 2 ** 60]);
  p.obj[p.key] = odd;
  if (how === 1) return { text: JSON.stringify(v), how: `set ${p.path}=${JSON.stringify(odd)}` };
  return { text: JSON.stringify(odd), how: `whole ${JSON.stringify(odd)}` };
}

// ---- the worker: applies a case to the work copy, runs the readers, restores the work copy

function applyDirCase(setup: Setup, r: () => number): { how: string; touched: string[] } {
  const w = setup.work;
  const names = readdirSync(setup.base).filter((n) => n !== 'parent');
  const images = names.filter((n) => n.endsWith('.img'));
  const weighted = [...images, ...images.filter((n) => /^(pstree|core-|mm-|pagemap-|pages-|files|inventory)/.test(n)), 'cryo.json', 'cryo.json'];
  const name = pick(r, weighted.filter((n) => names.includes(n)));
  const p = join(w, name);
  const kind = Math.floor(r() * 20);
  if (kind < 9) {
    const m = mutateBytes(readFileSync(p), r);
    rmSync(p); writeFileSync(p, m.bytes);
    return { how: `${name}: ${m.how}`, touched: [name] };
  }
  if (kind < 14 && name !== 'cryo.json' && !name.startsWith('pages-')) {
    const m = mutateField(readFileSync(p), name, r);
    if (m) { rmSync(p); writeFileSync(p, m.bytes); return { how: `${name}: ${m.how}`, touched: [name] }; }
  }
  if (kind < 16 && existsSync(join(w, 'cryo.json'))) {
    const m = mutateMeta(readFileSync(join(w, 'cryo.json'), 'utf8'), r);
    rmSync(join(w, 'cryo.json')); writeFileSync(join(w, 'cryo.json'), m.text);
    return { how: `cryo.json: ${m.how}`, touched: ['cryo.json'] };
  }
  if (kind === 16) { rmSync(p); return { how: `${name}: deleted`, touched: [name] }; }
  if (kind === 17) {
    rmSync(p);
    const target = pick(r, ['/dev/zero', '/dev/null', name, 'nowhere', '.', pick(r, names), '/proc/self/mem']);
    symlinkSync(target, p);
    return { how: `${name}: symlink to ${target}`, touched: [name] };
  }
  if (kind === 18) {
    rmSync(p);
    spawnSync('mkfifo', ['-m', '600', p]);
    return { how: `${name}: fifo`, touched: [name] };
  }
  // a parent link: loops, dangling, to a file; with in_parent pages so memory readers follow it
  const target = pick(r, ['.', w, 'parent', 'nowhere', 'pstree.img', '/dev/null', setup.base]);
  symlinkSync(target, join(w, 'parent'));
  const touched = ['parent'];
  const pm = images.filter((n) => n.startsWith('pagemap-') && !n.includes('shmem'));
  if (pm.length) {
    const n = pick(r, pm);
    const img = decodeImage(readFileSync(join(w, n)), { name: n });
    for (const e of img.entries.slice(1)) if (r() < 0.5) e.flags = 1; // PE_PARENT
    rmSync(join(w, n)); writeFileSync(join(w, n), encodeImage(img));
    touched.push(n);
  }
  return { how: `parent -> ${target}`, touched };
}

function restoreWork(setup: Setup, touched: string[]): void {
  for (const n of touched) {
    const p = join(setup.work, n);
    try { lstatSync(p); rmSync(p, { force: true }); } catch { /* absent */ }
    if (existsSync(join(setup.base, n)) && n !== 'parent') copyFileSync(join(setup.base, n), p);
  }
}

let baseImages: ImageDir | undefined;

/** the start of a process's first mapping, as its mm image says (0 when it has none) */
function firstVma(img: ImageDir, pid: number): number {
  const v = (img.first(`mm-${pid}.img`).vmas ?? [])[0];
  return v ? Number(v.start) : 0;
}

async function runReaders(dir: string, base: string, r: () => number): Promise<string[]> {
  // one cached view per case (as one CLI command has), the pristine one cached for the whole run
  const img = new ImageDir(dir);
  baseImages ??= new ImageDir(base);
  const steps: Array<() => unknown> = [
    () => readMeta(dir),
    () => assertComplete(dir),
    async () => { const c = await openCheckpoint(dir); await c.close(); },
    () => verify(dir),
    () => inspectCheckpoint(img),
    () => explorePs(img),
    () => exploreFds(img),
    () => exploreMems(img),
    () => exploreRss(img),
    () => readCheckpointStats(img),
    () => searchMemory(img, { text: 'cryo-fuzz-needle', maxMatches: 3 }),
    () => searchMemory(img, { regex: /ld-linux|HOME=/, maxMatches: 3 }),
    () => { for (const pid of checkpointPids(img)) readMemory(img, pid, firstVma(img, pid), 1 << 16); },
    () => {
      const out = join(dir, '..', 'dumped-memory');
      try { for (const pid of checkpointPids(img)) { rmSync(out, { force: true }); dumpMemory(img, pid, firstVma(img, pid), 1 << 16, out); } } finally { rmSync(out, { force: true }); }
    },
    () => diffCheckpoints(baseImages!, img),
    () => diffCheckpoints(img, baseImages!),
  ];
  // the cheap readers always, two of the costly ones (inspect, search, diff, verify) chosen by the case
  // steps: 0 meta, 1 complete, 2 open, 3 verify, 4 inspect, 5-8 explore, 9 stats, 10-11 search, 12 read, 13 dump, 14-15 diff
  const costly = new Set([3, 4, 10, 11, 14, 15]);
  const cheap = steps.filter((_, k) => !costly.has(k));
  const heavy = steps.filter((_, k) => costly.has(k));
  const chosen = [...cheap, pick(r, heavy), pick(r, heavy)];
  // every chosen reader runs: the first refusal does not hide a later crash
  const refused: string[] = [];
  for (const s of chosen) {
    try { await s(); } catch (e) { if (!(e instanceof CryoError)) throw e; refused.push(e.code); }
  }
  return refused;
}

async function runArchiveCase(setup: Setup, r: () => number, note: (how: string) => void): Promise<boolean> {
  const src = readFileSync(setup.archive!);
  const m = mutateArchive(src, r);
  note(`archive ${m.how}`);
  const p = join(setup.work, '..', 'case.cryo');
  rmSync(p, { force: true });
  writeFileSync(p, m.bytes);
  let refused = false;
  try { await verify(p); } catch (e) { if (!(e instanceof CryoError)) throw e; refused = true; }
  try {
    const c = await openCheckpoint(p);
    try {
      if ((await runReaders(c.dir, setup.base, r)).length) refused = true;
    } finally { await c.close(); }
  } catch (e) { if (!(e instanceof CryoError)) throw e; refused = true; }
  return refused;
}

/** archive mutations aim at its header, manifest length, record lengths and the zstd stream */
function mutateArchive(src: Buffer, r: () => number): { bytes: Buffer; how: string } {
  const k = Math.floor(r() * 5);
  if (k === 0) {
    const b = Buffer.from(src);
    const v = pick(r, [0, 1, 3, 0xffffffff, 0x7fffffff, b.readUInt32LE(12) + 1, b.readUInt32LE(12) - 1, 16 << 20]);
    const at = pick(r, [8, 12]);
    b.writeUInt32LE(v >>> 0, at);
    return { bytes: b, how: `header u32 ${v} at ${at}` };
  }
  if (k === 1) {
    // the manifest as JSON: drop a key or change a type
    const len = src.readUInt32LE(12);
    const m = mutateMeta(src.subarray(16, 16 + len).toString('utf8'), r);
    const mj = Buffer.from(m.text);
    const h = Buffer.from(src.subarray(0, 16));
    h.writeUInt32LE(mj.length, 12);
    return { bytes: Buffer.concat([h, mj, src.subarray(16 + len)]), how: `manifest: ${m.how}` };
  }
  const m = mutateBytes(src, r);
  return { bytes: m.bytes, how: `bytes: ${m.how}` };
}

function runImageCase(r: () => number, images: Array<{ name: string; bytes: Buffer }>, note: (how: string) => void): boolean {
  const fx = pick(r, images);
  const m = r() < 0.3 ? mutateField(fx.bytes, fx.name, r) ?? mutateBytes(fx.bytes, r) : mutateBytes(fx.bytes, r);
  note(`${fx.name}: ${m.how}`);
  const tryCryo = (f: () => unknown) => { try { return f(); } catch (e) { if (!(e instanceof CryoError)) throw e; return undefined; } };
  const img = tryCryo(() => decodeImage(m.bytes, { name: fx.name })) as ReturnType<typeof decodeImage> | undefined;
  tryCryo(() => decodeImage(m.bytes, { name: fx.name, lean: true }));
  if (img) {
    const plain = imageToJson(img);
    imageToJson(img, { pretty: true });
    tryCryo(() => encodeImage(img));
    tryCryo(() => encodeImage(imageFromJson(plain)));
    // the JSON text mutated as well
    const j = mutateBytes(Buffer.from(plain), r);
    tryCryo(() => encodeImage(imageFromJson(j.bytes.toString('latin1'))));
    try { parseJson(j.bytes.toString('latin1')); } catch (e) { if (!(e instanceof JsonParseError)) throw e; }
    // the JSON's values: a dropped key, a size or count set to something odd
    const k = mutateMeta(plain, r);
    tryCryo(() => encodeImage(imageFromJson(k.text)));
  }
  return img === undefined;
}

async function worker(): Promise<void> {
  const { setup, seed } = workerData as { setup: Setup; seed: number };
  // the dump's images, and the image fixtures (every kind of image the codec knows a payload for)
  const fixtures = new URL('../../test/fixtures/images/dump/', import.meta.url).pathname;
  const images = [setup.base, ...(existsSync(fixtures) ? [fixtures] : [])].flatMap((d) => readdirSync(d)
    .filter((n) => !n.endsWith('.json') && !n.startsWith('pages-') && n !== 'cryo.json' && !n.endsWith('.log')).map((name) => ({ name, bytes: readFileSync(join(d, name)) })));
  parentPort!.on('message', async (msg: { i: number }) => {
    const { i } = msg;
    const r = caseRandom(seed, i);
    const roll = r();
    const kind: Kind = setup.archive && roll < 0.1 ? 'archive' : roll < 0.5 ? 'image' : 'dir';
    let touched: string[] = [];
    const res: CaseResult = { i, kind, mutation: '', outcome: 'ok' };
    const note = (how: string) => { res.mutation = how; parentPort!.postMessage({ note: how, i }); };
    try {
      if (kind === 'dir') {
        const a = applyDirCase(setup, r);
        touched = a.touched;
        note(a.how);
        if ((await runReaders(setup.work, setup.base, r)).length) res.outcome = 'refused';
      } else if (kind === 'archive') { if (await runArchiveCase(setup, r, note)) res.outcome = 'refused'; } else if (runImageCase(r, images, note)) res.outcome = 'refused';
    } catch (e) {
      res.outcome = 'crash';
      res.error = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n') : String(e);
    } finally {
      restoreWork(setup, touched);
    }
    parentPort!.postMessage(res);
  });
  parentPort!.postMessage({ ready: true });
}

// ---- the main thread: setup, one watched worker, figures

function arg(name: string, dflt?: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : dflt;
}

/** a real checkpoint (directory and archive) of a small tree, made with CRIU through cryo's CLI */
function makeCheckpoint(root: string): { dir: string; archive: string } | null {
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const prog = 'x=cryo-fuzz-needle; sleep 100000 & sleep 100000 & wait';
  const a = run(['run', '--', 'bash', '-c', prog]);
  const b = run(['run', '--', 'bash', '-c', prog]);
  const pa = Number(a.stdout.trim().split('\n').pop());
  const pb = Number(b.stdout.trim().split('\n').pop());
  if (!pa || !pb) return null;
  const dir = join(root, 'base');
  const archive = join(root, 'base.cryo');
  const d = run(['dump', String(pa), '-D', dir]);
  const o = run(['dump', String(pb), '-o', archive]);
  if (d.status !== 0 || o.status !== 0) {
    for (const p of [pa, pb]) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    process.stderr.write(`fuzz: no CRIU dump (${(d.stderr + o.stderr).trim().split('\n')[0]}); using the image fixtures\n`);
    return null;
  }
  return { dir, archive };
}

async function main(): Promise<void> {
  const cases = Number(arg('cases', '1000'));
  const seed = Number(arg('seed', '1'));
  const only = arg('only');
  const timeoutMs = Number(arg('timeout-ms', '5000'));
  const root = mkdtempSync(join(tmpdir(), 'cryo-fuzz-'));
  let base = arg('base');
  let archive = arg('archive') ?? null;
  // --keep DIR: the CRIU dump is made once into DIR and reused, so a case replays on the same bytes
  const keep = arg('keep');
  if (!base && keep && existsSync(join(keep, 'base'))) ({ base, archive } = { base: join(keep, 'base'), archive: existsSync(join(keep, 'base.cryo')) ? join(keep, 'base.cryo') : null });
  if (!base) {
    if (keep) mkdirSync(keep, { recursive: true, mode: 0o700 });
    const made = makeCheckpoint(keep ?? root);
    if (made) ({ dir: base, archive } = made);
    else base = new URL('../../test/fixtures/images/dump/', import.meta.url).pathname;
  }
  const pristine = join(root, 'pristine');
  cpSync(base, pristine, { recursive: true, filter: (s) => !s.endsWith('.json') || s.endsWith('cryo.json') });
  const setup: Setup = { base: pristine, archive, work: '' };

  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  const crashes: CaseResult[] = [];
  const hangs: number[] = [];
  const list = only !== undefined ? [Number(only)] : Array.from({ length: cases }, (_, k) => k);
  const started = Date.now();
  let next = 0;
  const ms = new Map<string, number>();

  // --jobs N workers (default 2), each with its own work copy; a case's outcome does not depend on which runs it
  const jobs = only !== undefined ? 1 : Math.max(1, Number(arg('jobs', '2')));
  await new Promise<void>((done) => {
    let running = jobs;
    const slot = (k: number) => {
      const mine: Setup = { ...setup, work: join(root, `w${k}`, 'work') };
      if (!existsSync(mine.work)) { mkdirSync(join(root, `w${k}`), { recursive: true }); cpSync(pristine, mine.work, { recursive: true }); }
      let w: Worker;
      let timer: NodeJS.Timeout | undefined;
      let sentAt = 0;
      let current = -1;
      let lastNote = '';
      const launch = () => {
        w = new Worker(new URL(import.meta.url), { workerData: { setup: mine, seed }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
        w.on('message', (m: CaseResult | { ready: true } | { note: string; i: number }) => {
          if ('ready' in m) return send();
          if ('note' in m) { lastNote = m.note; return; }
          clearTimeout(timer);
          bump(`${m.kind} ${m.outcome}`);
          ms.set(m.kind, (ms.get(m.kind) ?? 0) + (Date.now() - sentAt));
          if (m.outcome === 'crash') {
            crashes.push(m);
            process.stderr.write(`crash: case ${m.i} (--seed ${seed} --only ${m.i}) ${m.kind} ${m.mutation}\n  ${m.error}\n`);
          }
          if (only !== undefined) process.stderr.write(`case ${m.i}: ${m.kind} ${m.mutation}: ${m.outcome}\n`);
          send();
        });
        w.on('error', (e) => {
          clearTimeout(timer);
          bump('worker died');
          crashes.push({ i: current, kind: 'dir', mutation: lastNote, outcome: 'crash', error: String(e) });
          process.stderr.write(`crash: case ${current} (--seed ${seed} --only ${current}) killed the worker: ${e}: ${lastNote}\n`);
          restart();
        });
      };
      const restart = () => {
        void w.terminate();
        // the hung case may have left its mutation in the work copy: start from a fresh one
        rmSync(mine.work, { recursive: true, force: true });
        cpSync(pristine, mine.work, { recursive: true });
        launch();
      };
      const send = () => {
        if (next >= list.length) {
          void w.terminate();
          if (--running === 0) done();
          return;
        }
        const i = list[next++]!;
        current = i;
        if (next % 5000 === 0) process.stderr.write(`fuzz: ${next}/${list.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
        timer = setTimeout(() => {
          hangs.push(i);
          bump('hang');
          process.stderr.write(`hang: case ${i} (--seed ${seed} --only ${i}) over ${timeoutMs} ms: ${lastNote}\n`);
          // unblock a reader stuck opening a FIFO, then replace the worker
          for (const n of readdirSync(mine.work)) {
            try { if (lstatSync(join(mine.work, n)).isFIFO()) { closeSync(openSync(join(mine.work, n), constants.O_WRONLY | constants.O_NONBLOCK)); unlinkSync(join(mine.work, n)); } } catch { /* best effort */ }
          }
          restart();
        }, timeoutMs);
        sentAt = Date.now();
        w.postMessage({ i });
      };
      launch();
    };
    for (let k = 0; k < jobs; k++) slot(k);
  });

  const secs = (Date.now() - started) / 1000;
  const figures = { cases: list.length, seed, seconds: Number(secs.toFixed(1)), base: archive ? 'CRIU dump' : 'image fixtures', counts: Object.fromEntries([...counts].sort()), msByKind: Object.fromEntries([...ms].sort()), crashes: crashes.length, hangs: hangs.length };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  rmSync(root, { recursive: true, force: true });
  process.exitCode = crashes.length || hangs.length ? 1 : 0;
}

if (isMainThread) await main();
else await worker();
