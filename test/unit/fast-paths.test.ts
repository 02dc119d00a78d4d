// The fast paths against the general ones they stand in for: the direct bytes-to-JSON transcoder
// against decode-then-render on random messages of every plain image type, and the ASCII renderer of
// the mems view against the string one. Each must answer exactly what the general path answers.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeText } from '../../src/cli/render/escape.js';
import { renderMems } from '../../src/cli/render/explore.js';
import { decodeImage, encodeImage, imageToJson, MAGICS, type Entry } from '../../src/images/index.js';
import { messageType, type FieldInfo, type MessageType } from '../../src/images/schema.js';
import { transcodeToJson } from '../../src/images/transcode.js';
import { exploreMems, type MemsProcess } from '../../src/inspect/explore.js';
import { ImageDir } from '../../src/inspect/images.js';
import { fixtureDir, prng, toLean } from '../helpers/images-fixtures.js';

const TWO64 = 1n << 64n;

/** The top-level fields of an encoded message, each as its bytes (key and value). */
function splitFields(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  const varint = (): number => {
    let x = 0;
    let mul = 1;
    for (;;) {
      const c = body[p++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) return x;
      mul *= 128;
    }
  };
  while (p < body.length) {
    const at = p;
    const wt = varint() % 8;
    if (wt === 0) varint();
    else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else {
      const len = varint();
      p += len;
    }
    out.push(body.subarray(at, p));
  }
  return out;
}

/** An image of one entry whose top-level fields are written in a shuffled order. */
function shuffledImage(bytes: Buffer, header: number, rnd: () => number): Buffer {
  const fields = splitFields(bytes.subarray(header + 4));
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  const body = Buffer.concat(fields);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length);
  return Buffer.concat([bytes.subarray(0, header), size, body]);
}


/** A random value of a field's kind, within what the encoder accepts; edges (0, 2^53, 2^64-1) often. */
function randomScalar(f: FieldInfo, rnd: () => number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const big = (): bigint => {
    const edge = pick([0n, 1n, 127n, 128n, (1n << 53n) - 1n, 1n << 53n, (1n << 63n) - 1n, TWO64 - 1n, 0x7f0000000000n]);
    if (rnd() < 0.5) return edge;
    return BigInt(Math.floor(rnd() * 2 ** 32)) << BigInt(Math.floor(rnd() * 32)) | BigInt(Math.floor(rnd() * 2 ** 20));
  };
  switch (f.kind) {
    case 'uint64': case 'fixed64': return big() % TWO64;
    case 'int64': case 'sint64': case 'sfixed64': return BigInt.asIntN(64, big());
    case 'uint32': case 'fixed32': return pick([0, 1, 127, 128, 300, 0x7fffffff, 0xffffffff, Math.floor(rnd() * 2 ** 32)]);
    case 'int32': case 'sint32': case 'sfixed32': return pick([0, -1, 1, -129, 0x7fffffff, -0x80000000, Math.floor(rnd() * 2 ** 31) - 2 ** 30]);
    case 'bool': return rnd() < 0.5;
    case 'enum': {
      const known = [...f.enumType!.byNumber.keys()];
      // now and then a number the enum does not name: crit leaves it out
      return rnd() < 0.1 ? 12345 : pick(known);
    }
    case 'string': return pick(['', 'a', '/usr/lib/x86_64-linux-gnu/libc.so.6', 'tab\there', 'quote " and \\', 'caf\u00e9 \u2603', '\u0001\u007f']);
    case 'bytes': return Buffer.from(Array.from({ length: Math.floor(rnd() * 70) }, () => Math.floor(rnd() * 256)));
    case 'double': case 'float': return pick([0, 1.5, -2.25, 1e20, 0.0001]);
    default: throw new Error(`no generator for ${f.kind}`);
  }
}

/** A random message: required fields always, each optional one half the time, repeated ones 0 to 3 times. */
function randomMessage(type: MessageType, rnd: () => number, depth = 0): Entry {
  const e: Entry = {};
  for (const f of type.fields) {
    if (!f.required && rnd() < 0.5) continue;
    if (f.kind === 'message' && depth > 3 && !f.required) continue;
    const one = () => (f.kind === 'message' ? randomMessage(f.messageType!, rnd, depth + 1) : randomScalar(f, rnd));
    e[f.name] = f.repeated ? Array.from({ length: Math.floor(rnd() * 4) }, one) : one();
  }
  return e;
}

/** The message types of the images the transcoder takes (plain entries, and the pagemap's two). */
function plainImageTypes(): Array<{ magic: string; first: MessageType; rest: MessageType }> {
  const out: Array<{ magic: string; first: MessageType; rest: MessageType }> = [];
  for (const info of MAGICS.values()) {
    if (info.framing === 'pagemap') out.push({ magic: info.name, first: messageType('pagemap_head'), rest: messageType('pagemap_entry') });
    else if (info.framing === 'entries' && !info.extra) out.push({ magic: info.name, first: messageType(info.message!), rest: messageType(info.message!) });
  }
  return out;
}

describe('lean decoding: fields in order (one test each) and in any order (the loop)', () => {
  it('equals the full decode on random messages of every plain image type, written in order and shuffled', () => {
    const rnd = prng(0x1ea7);
    let shuffled = 0;
    for (const t of plainImageTypes()) {
      for (let i = 0; i < 30; i++) {
        const bytes = encodeImage({ magic: t.magic, entries: [randomMessage(t.first, rnd)] });
        const header = bytes.readUInt32LE(0) === 0x58313116 ? 4 : 8; // inventory has no secondary magic
        const variants = [bytes, shuffledImage(bytes, header, rnd)];
        if (!variants[1]!.equals(bytes)) shuffled++;
        for (const b of variants) {
          const full = decodeImage(b, { name: `${t.magic}.img` });
          const lean = decodeImage(b, { name: `${t.magic}.img`, lean: true });
          assert.deepStrictEqual(lean.entries, toLean(full.entries), `${t.magic} set ${i}`);
          // and the direct JSON, where it answers, is the general path's
          const fast = transcodeToJson(b, { name: `${t.magic}.img` });
          if (fast) assert.equal(fast.toString('latin1'), imageToJson(full));
        }
      }
    }
    assert.ok(shuffled > 500, `only ${shuffled} shuffled`);
  });
});

describe('direct JSON (transcode) against decode-then-render', () => {
  it('agrees on random messages of every plain image type, plain and pretty', () => {
    const rnd = prng(0xfa57);
    let direct = 0;
    let declined = 0;
    for (const t of plainImageTypes()) {
      for (let i = 0; i < 40; i++) {
        const entries = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, k) => randomMessage(k === 0 ? t.first : t.rest, rnd));
        const bytes = encodeImage({ magic: t.magic, entries });
        const img = decodeImage(bytes, { name: `${t.magic}.img` });
        for (const pretty of [false, true]) {
          const fast = transcodeToJson(bytes, { name: `${t.magic}.img`, pretty });
          if (fast === undefined) {
            declined++;
            continue;
          }
          direct++;
          assert.equal(fast.toString('latin1'), imageToJson(img, { pretty }), `${t.magic} entry set ${i}${pretty ? ' (pretty)' : ''}`);
        }
      }
    }
    // unknown enum values and pretty IP addresses are declined; the rest must go the direct way
    assert.ok(direct > declined * 2, `direct ${direct}, declined ${declined}`);
  });

  it('takes a large mm image whole, with every VMA', () => {
    const rnd = prng(7);
    const vma = messageType('vma_entry');
    const mm = randomMessage(messageType('mm_entry'), rnd);
    mm.vmas = Array.from({ length: 3000 }, (_, i) => ({ ...randomMessage(vma, rnd), start: 0x7f0000000000n + BigInt(i) * 8192n, fd: i % 7 === 0 ? BigInt(i) : -1n }));
    const bytes = encodeImage({ magic: 'MM', entries: [mm] });
    for (const pretty of [false, true]) {
      const fast = transcodeToJson(bytes, { name: 'mm-1.img', pretty });
      assert.ok(fast, 'the direct path declined a plain mm image');
      assert.equal(fast.toString('latin1'), imageToJson(decodeImage(bytes, { name: 'mm-1.img' }), { pretty }));
    }
  });

  it('declines fields out of order, duplicated singular fields and unknown fields, which the general path renders', () => {
    const vma = messageType('vma_entry');
    const one = encodeImage({ magic: 'VMAS', entries: [{ start: 4096n, end: 8192n, pgoff: 0n, shmid: 1n, prot: 3, flags: 34, status: 513, fd: -1n }] });
    // magic (8 bytes), size (4), then the body: start (08 80 20), end (10 80 40), the rest
    const body = one.subarray(12);
    assert.deepEqual([...body.subarray(0, 6)], [0x08, 0x80, 0x20, 0x10, 0x80, 0x40]);
    const swapped = Buffer.concat([one.subarray(0, 12), body.subarray(3, 6), body.subarray(0, 3), body.subarray(6)]);
    const dup = Buffer.concat([one, body.subarray(0, 3)]);
    dup.writeUInt32LE(body.length + 3, 8);
    const unknown = Buffer.concat([one, Buffer.from([0xf8, 0x01, 0x05])]);
    unknown.writeUInt32LE(body.length + 3, 8);
    for (const b of [swapped, dup, unknown]) {
      assert.equal(transcodeToJson(b, { name: 'vmas.img' }), undefined);
      assert.equal(decodeImage(b, { name: 'vmas.img' }).entries.length, 1);
    }
    assert.ok(vma.fields.length > 8);
  });
});

/** The mems view as crit's `x mems` prints it, the plain way (toString(16) per address). */
function referenceMems(procs: MemsProcess[]): string {
  const out: string[] = [];
  for (const p of procs) {
    out.push(String(p.pid), `\t${'exe'.padEnd(36)}    ${escapeText(p.exe)}`);
    for (const v of p.vmas) out.push(`\t${`${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')}`.padEnd(36)}${v.prot}${escapeText(v.name)}`);
  }
  return `${out.join('\n')}\n`;
}

describe('mems view: addresses in hex by table against toString(16)', () => {
  it('renders the fixtures checkpoint as the plain way does', () => {
    let procs: MemsProcess[];
    // the fixtures' tree less its process without an mm image
    const dir = mkdtempSync(join(tmpdir(), 'cryo-fast-paths-'));
    try {
      cpSync(fixtureDir, dir, { recursive: true, filter: (f) => !f.endsWith('.json') });
      const pstree = decodeImage(readFileSync(join(dir, 'pstree.img')), { name: 'pstree.img' });
      pstree.entries = pstree.entries.filter((e) => existsSync(join(dir, `mm-${e.pid}.img`)));
      writeFileSync(join(dir, 'pstree.img'), encodeImage(pstree));
      procs = exploreMems(new ImageDir(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(procs.length > 0 && procs[0]!.vmas.length > 5);
    assert.equal(renderMems(procs), referenceMems(procs));
  });

  it('agrees on random and edge addresses (below 2^16, past 2^32, 2^53, bigints)', () => {
    const rnd = prng(99);
    const names = ['', ' *', ' [stack]', ' /usr/lib/libc.so.6 + 0x1000', ' shmem[1a] (s)', ' caf\u00e9', ' new\nline'];
    for (let n = 0; n < 200; n++) {
      const procs: MemsProcess[] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, k) => ({
        pid: 1 + k * 1000 + Math.floor(rnd() * 999),
        exe: '/bin/x',
        vmas: Array.from({ length: Math.floor(rnd() * 6) }, () => {
          const start = [0, 0x1000, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 0x7fffffff000, 2 ** 53 - 4096, Math.floor(rnd() * 2 ** 47)][Math.floor(rnd() * 9)]!;
          const vsyscall = rnd() < 0.05;
          return {
            start: vsyscall ? 0xffffffffff600000n : start,
            end: vsyscall ? 0xffffffffff601000n : start + 4096 * (1 + Math.floor(rnd() * 100)),
            prot: ['---', 'r--', 'rw-', 'r-x'][Math.floor(rnd() * 4)]!,
            name: names[Math.floor(rnd() * names.length)]!,
          };
        }),
      }));
      assert.equal(renderMems(procs), referenceMems(procs), `set ${n}`);
    }
  });
});
