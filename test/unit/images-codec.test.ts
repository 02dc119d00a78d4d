// The codec on real images: crit-identical JSON, byte-exact re-encoding, streaming equal to whole decoding.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  decodeImage, encodeImage, imageFromJson, imageToJson, iterateEntries, iterateImage, parseJson, setJsonWriterForTests, stringifyJson,
  UNKNOWN_FIELDS, type Entry, type Image,
} from '../../src/images/index.js';
import { transcodeToJson } from '../../src/images/transcode.js';
import { imageFixtures } from '../helpers/images-fixtures.js';

const fixtures = imageFixtures();

function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

describe('real images', () => {
  it('goes straight from bytes to JSON for the plain image types', () => {
    const direct = fixtures.filter((f) => transcodeToJson(f.bytes, { name: f.name }) !== undefined).map((f) => f.name.replace(/[-.\d]+(img)?$/, ''));
    for (const t of ['core', 'mm', 'pagemap', 'files', 'pstree', 'inventory', 'stats-dump']) assert.ok(direct.includes(t), `${t} not transcoded directly (${direct})`);
  });

  it('has the fixtures', () => {
    assert.ok(fixtures.length >= 25, `only ${fixtures.length} fixtures`);
  });

  for (const fx of fixtures) {
    describe(fx.name, () => {
      it('re-encodes to the same bytes', () => {
        const img = decodeImage(fx.bytes, { name: fx.name });
        assert.notEqual(img.magic, 'RAW');
        assert.ok(img.entries.length > 0);
        assert.deepEqual(encodeImage(img), fx.bytes);
      });

      if (fx.critJson) {
        it("renders crit's JSON, plain and pretty, and encodes crit's JSON back to the bytes", () => {
          const img = decodeImage(fx.bytes, { name: fx.name });
          assert.equal(`${imageToJson(img)}\n`, fx.critJson);
          assert.equal(`${imageToJson(img, { pretty: true })}\n`, fx.critPretty);
          // the direct bytes-to-JSON path agrees where it applies
          for (const pretty of [false, true]) {
            const direct = transcodeToJson(fx.bytes, { name: fx.name, pretty });
            if (direct) assert.equal(`${direct.toString('latin1')}\n`, pretty ? fx.critPretty : fx.critJson);
          }
          // the generic reference writer agrees with the generated ones
          setJsonWriterForTests('generic');
          try {
            assert.equal(`${imageToJson(img)}\n`, fx.critJson);
            assert.equal(`${imageToJson(img, { pretty: true })}\n`, fx.critPretty);
          } finally {
            setJsonWriterForTests('generated');
          }
          assert.deepEqual(encodeImage(imageFromJson(fx.critJson!)), fx.bytes);
          assert.deepEqual(encodeImage(imageFromJson(fx.critPretty!)), fx.bytes);
        });
      }

      it('streams the same entries in small chunks', async () => {
        const whole = decodeImage(fx.bytes, { name: fx.name });
        for (const size of [1, 3, 4096]) {
          const got: Entry[] = [];
          let magic = '';
          for await (const item of iterateImage(chunked(fx.bytes, size), { name: fx.name })) {
            if ('header' in item) magic = item.header.magic;
            else got.push(item.entry);
          }
          assert.equal(magic, whole.magic);
          assert.deepEqual(got, whole.entries);
        }
      });
    });
  }
});

describe('conventions', () => {
  const byPrefix = (p: string) => fixtures.find((f) => f.name.startsWith(p))!;

  it('keeps 64-bit integers exact (RLIM_INFINITY, signal masks)', () => {
    const core = decodeImage(byPrefix('core-').bytes);
    const tc = core.entries[0].tc as Entry;
    const rlimits = ((tc.rlimits as Entry).rlimits as Entry[]);
    assert.ok(rlimits.some((r) => r.cur === 0xffffffffffffffffn), 'an unlimited rlimit is exactly 2^64-1');
    assert.equal(typeof rlimits[0].cur, 'bigint');
    const json = imageToJson(core);
    assert.ok(json.includes('18446744073709551615'));
    assert.equal(typeof tc.blk_sigset, 'bigint');
  });

  it('puts the pagemap head first', () => {
    const pm = decodeImage(byPrefix('pagemap-2').bytes);
    assert.equal(pm.magic, 'PAGEMAP');
    assert.deepEqual(Object.keys(pm.entries[0]), ['pages_id']);
    assert.equal(typeof pm.entries[1].vaddr, 'bigint');
  });

  it('decodes payloads: pipe data, socket queues, TCP queues, SysV messages and semaphores, ghost file', () => {
    const pipe = decodeImage(byPrefix('pipes-data').bytes);
    assert.equal((pipe.entries[0].extra as Buffer).toString(), 'data in a pipe\n');
    const fifo = decodeImage(byPrefix('fifo-data').bytes);
    assert.equal((fifo.entries[0].extra as Buffer).toString(), 'fifo data');
    const skq = decodeImage(byPrefix('sk-queues').bytes);
    assert.ok(skq.entries.some((e) => (e.extra as Buffer).toString() === 'unix dgram 2'));
    const tcp = decodeImage(byPrefix('tcp-stream').bytes);
    const q = tcp.entries[0].extra as { inq: Buffer; outq: Buffer };
    assert.ok(['client to server', 'server to client!'].includes(q.outq.toString()) || q.inq.length > 0);
    const sem = decodeImage(byPrefix('ipcns-sem').bytes);
    assert.deepEqual(sem.entries[0].extra, [1, 32767, 300]);
    const msg = decodeImage(byPrefix('ipcns-msg').bytes);
    const m = msg.entries[0].extra as unknown[];
    assert.equal((m[1] as Buffer).toString(), 'first message');
    assert.equal((m[3] as Buffer).toString(), 'second, longer message');
    const ghost = decodeImage(byPrefix('ghost-file').bytes);
    assert.equal((ghost.entries[0].extra as Buffer).toString(), 'contents of a deleted file');
  });

  it('lists every SysV shm segment when their pages are in pagemaps (crit swallows the next entry)', () => {
    const shm = decodeImage(byPrefix('ipcns-shm').bytes);
    assert.equal(shm.entries.length, 2);
    assert.deepEqual(shm.entries.map((e) => e.in_pagemaps), [true, true]);
    assert.ok(shm.entries.every((e) => !('extra' in e)));
    assert.deepEqual(encodeImage(imageFromJson(imageToJson(shm))), byPrefix('ipcns-shm').bytes);
  });

  it('iterateEntries reads a path', async () => {
    const { fixtureDir } = await import('../helpers/images-fixtures.js');
    const fx = byPrefix('mm-');
    const got: Entry[] = [];
    for await (const e of iterateEntries(`${fixtureDir}${fx.name}`)) got.push(e);
    assert.deepEqual(got, decodeImage(fx.bytes).entries);
  });

  it('recognises raw images by name and round-trips them', () => {
    const raw = Buffer.from('not an image at all, just pages');
    const img = decodeImage(raw, { name: '/x/pages-3.img' });
    assert.equal(img.magic, 'RAW');
    assert.deepEqual(img.raw, raw);
    assert.deepEqual(encodeImage(img), raw);
  });

  it('re-emits the secondary magic that was found', () => {
    const fx = byPrefix('core-');
    const img = decodeImage(fx.bytes);
    assert.equal(img.secondaryMagic, 0x54564319);
    const other = encodeImage({ ...img, secondaryMagic: 0x55105940 });
    assert.equal(other.readUInt32LE(0), 0x55105940);
    assert.deepEqual(decodeImage(other).secondaryMagic, 0x55105940);
    const inv = decodeImage(byPrefix('inventory').bytes);
    assert.equal(inv.secondaryMagic, null);
    const stats = decodeImage(byPrefix('stats-dump').bytes);
    assert.equal(stats.secondaryMagic, 0x55105940);
    assert.deepEqual(encodeImage({ magic: 'STATS', entries: stats.entries }), byPrefix('stats-dump').bytes);
  });

  it('keeps unknown fields through a round trip', () => {
    const fx = byPrefix('pstree');
    // field 99 (varint 5) appended to the first entry
    const img = decodeImage(fx.bytes);
    const withUnknown = Buffer.concat([Buffer.from([0x98, 0x06, 0x05])]);
    const e = { ...img.entries[0], [UNKNOWN_FIELDS]: [withUnknown] } as Entry;
    const bytes = encodeImage({ ...img, entries: [e, ...img.entries.slice(1)] });
    const back = decodeImage(bytes);
    assert.deepEqual(back.entries[0][UNKNOWN_FIELDS], [withUnknown]);
    assert.deepEqual(encodeImage(back), bytes);
    assert.equal(imageToJson(back), imageToJson(img), 'unknown fields are not in the JSON');
  });
});

describe('image types crit cannot read round-trip', () => {
  const cases: Image[] = [
    { magic: 'SIGNAL', entries: [{ siginfo: Buffer.from([10, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff]) }, { siginfo: Buffer.alloc(128, 7) }] },
    { magic: 'PIDFD', entries: [{ id: 5, ino: 1234, nspid: 17, flags: 0o4000, fown: { uid: 0, euid: 0, signum: 0, pid_type: 0, pid: 0 } }] },
    { magic: 'BINFMT_MISC', entries: [{ name: 'cryo', enabled: true, interpreter: '/bin/true', flags: 'F', extension: 'cry' }] },
    { magic: 'KDAT', entries: [{ extra: Buffer.from([1, 2, 3, 4, 5]) }] },
    { magic: 'GHOST_FILE', entries: [{ uid: 0, gid: 0, mode: 0o100600, chunks: true, size: 10000n }, { len: 4n, off: 0n, extra: Buffer.from('abcd') }, { len: 2n, off: 8192n, extra: Buffer.from('yz') }] },
    { magic: 'IPCNS_SHM', entries: [{ desc: { key: 1, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0o600, id: 3 }, size: 5n, extra: Buffer.from('hello') }] },
    { magic: 'BPFMAP_DATA', entries: [{ map_id: 1, keys_bytes: 4, values_bytes: 8, count: 1, extra: Buffer.from('kkkkvvvvvvvv') }] },
  ];
  for (const img of cases) {
    it(img.magic, () => {
      const bytes = encodeImage(img);
      const back = decodeImage(bytes, { name: `${img.magic}.img` });
      assert.equal(back.magic, img.magic);
      assert.deepEqual(encodeImage(back), bytes);
      for (const pretty of [false, true]) {
        const json = imageToJson(back, { pretty });
        assert.deepEqual(encodeImage(imageFromJson(json)), bytes);
      }
    });
  }

  it('encodes pretty renderings back (hex, flags, devices, IPs, dict names)', () => {
    const img: Image = {
      magic: 'FILES',
      entries: [{
        id: 1, type: 2,
        isk: {
          id: 1, ino: 2, family: 10, type: 1, proto: 6, state: 10, src_port: 80, dst_port: 0, flags: 0o4002, backlog: 5,
          src_addr: [0, 0, 0, 0x01000000], dst_addr: [0x000080fe, 0, 0x0000ffff, 0x0100007f],
          fown: { uid: 0, euid: 0, signum: 0, pid_type: 0, pid: 0 }, opts: { so_sndbuf: 1, so_rcvbuf: 2, so_snd_tmo_sec: 0n, so_snd_tmo_usec: 0n, so_rcv_tmo_sec: 0n, so_rcv_tmo_usec: 0n },
        },
      }],
    };
    const bytes = encodeImage(img);
    const pretty = imageToJson(decodeImage(bytes), { pretty: true });
    assert.match(pretty, /"src_addr": \[\n\s+"::1"\n/);
    assert.match(pretty, /"dst_addr": \[\n\s+"fe80::ffff:0:7f00:1"\n/);
    assert.match(pretty, /"family": "INET6"/);
    assert.match(pretty, /"state": "LISTEN"/);
    assert.deepEqual(encodeImage(imageFromJson(pretty)), bytes);
  });
});

describe('JSON text', () => {
  it('escapes like Python (ensure_ascii) and parses integers exactly', () => {
    const s = stringifyJson({ a: 'é\u0001"\\/\n\u{1f600}\u007f', b: 18446744073709551615n, c: [], d: {}, e: -5 });
    assert.equal(s, '{"a": "\\u00e9\\u0001\\"\\\\/\\n\\ud83d\\ude00\u007f", "b": 18446744073709551615, "c": [], "d": {}, "e": -5}');
    const v = parseJson(s) as Record<string, unknown>;
    assert.equal(v.b, 18446744073709551615n);
    assert.equal(v.a, 'é\u0001"\\/\n\u{1f600}\u007f');
    assert.equal(stringifyJson({ x: [1, { y: [] }] }, true), '{\n    "x": [\n        1,\n        {\n            "y": []\n        }\n    ]\n}');
  });
});
