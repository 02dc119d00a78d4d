// Bad images and hostile JSON: one CryoError BAD_IMAGE (exit 4) naming file, offset and entry; never a crash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { decodeImage, encodeImage, imageFromJson, iterateEntries } from '../../src/images/index.js';
import { imageFixtures } from '../helpers/images-fixtures.js';

const fx = (p: string) => imageFixtures().find((f) => f.name.startsWith(p))!.bytes;

function badImage(fn: () => unknown, pattern: RegExp): CryoError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CryoError, `expected a CryoError, got ${err}`);
  assert.equal(err.code, 'BAD_IMAGE');
  assert.equal(err.exitCode, 4);
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes('\n'), 'one line');
  assert.ok(err.hint);
  return err;
}

describe('bad images', () => {
  it('unknown magic', () => {
    const b = Buffer.from([0x19, 0x43, 0x56, 0x54, 1, 2, 3, 4]);
    const e = badImage(() => decodeImage(b, { name: 'x.img' }), /^x\.img: unknown magic 0x4030201 .*at offset 4$/);
    assert.equal(e.details.offset, 4);
    badImage(() => decodeImage(Buffer.from([1, 2, 3])), /<input>: truncated magic/);
    badImage(() => decodeImage(Buffer.alloc(0), { name: 'empty.img' }), /empty\.img: truncated magic: 4 bytes needed, 0 left at offset 0/);
  });

  it('truncated entry and size past the end', () => {
    const core = fx('core-');
    badImage(() => decodeImage(core.subarray(0, core.length - 10), { name: 'core.img' }), /^core\.img: truncated entry: \d+ bytes declared: \d+ bytes needed, \d+ left at offset 12 \(entry 0\)$/);
    badImage(() => decodeImage(core.subarray(0, 10), { name: 'core.img' }), /truncated entry size: 4 bytes needed, 2 left at offset 8 \(entry 0\)/);
    const pstree = Buffer.from(fx('pstree'));
    const grown = Buffer.concat([pstree, Buffer.from([0xff, 0xff, 0, 0, 1])]);
    badImage(() => decodeImage(grown, { name: 'pstree.img' }), new RegExp(`truncated entry: 65535 bytes declared: 65535 bytes needed, 1 left at offset ${pstree.length + 4} \\(entry \\d+\\)`));
  });

  it('negative and oversized entry sizes', () => {
    const head = fx('pstree').subarray(0, 8);
    badImage(() => decodeImage(Buffer.concat([head, Buffer.from([0, 0, 0, 0x80])])), /negative entry size -2147483648 at offset 8 \(entry 0\)/);
    const big = Buffer.concat([head, Buffer.from([0, 0, 0x10, 0]), Buffer.alloc(1 << 20)]);
    badImage(() => decodeImage(big, { maxEntrySize: 1000 }), /entry size 1048576 exceeds the limit of 1000 bytes at offset 8 \(entry 0\)/);
  });

  it('invalid protobuf', () => {
    const head = fx('pstree').subarray(0, 8);
    // field 1, wire type 7 (invalid)
    badImage(() => decodeImage(Buffer.concat([head, Buffer.from([2, 0, 0, 0, 0x0f, 0])])), /invalid protobuf pstree_entry \(invalid wire type 7\) at offset 12 \(entry 0\)/);
    // a length-delimited field running past the message
    badImage(() => decodeImage(Buffer.concat([head, Buffer.from([2, 0, 0, 0, 0x2a, 9])])), /invalid protobuf pstree_entry \(length 9 past the end of the message\) at offset 14 \(entry 0\)/);
    // a varint that never ends
    badImage(() => decodeImage(Buffer.concat([head, Buffer.from([3, 0, 0, 0, 0x08, 0xff, 0xff])])), /truncated varint/);
  });

  it('payload past the end names the entry', () => {
    const pipes = fx('pipes-data');
    badImage(() => decodeImage(pipes.subarray(0, pipes.length - 3), { name: 'pipes-data.img' }), /pipes-data\.img: truncated pipe data: \d+ bytes needed, \d+ left at offset \d+ \(entry \d\)/);
  });

  it('a missing file is NOT_FOUND, for reading and for streaming', async () => {
    const { readImage } = await import('../../src/images/index.js');
    assert.throws(() => readImage('/nonexistent/core-1.img'), (e: unknown) => e instanceof CryoError && e.code === 'NOT_FOUND');
    await assert.rejects(async () => { for await (const _ of iterateEntries('/nonexistent/core-1.img')) { /* drain */ } },
      (e: unknown) => e instanceof CryoError && e.code === 'NOT_FOUND' && /cannot read \/nonexistent\/core-1\.img: ENOENT/.test(e.message));
  });

  it('streaming reports the same errors', async () => {
    const core = fx('core-');
    async function* src() { yield core.subarray(0, 100); }
    await assert.rejects(async () => { for await (const _ of iterateEntries(src(), { name: 'core.img' })) { /* drain */ } },
      (e: unknown) => e instanceof CryoError && e.code === 'BAD_IMAGE' && /core\.img: truncated entry/.test(e.message));
  });
});

describe('hostile JSON', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"magic": ', /invalid JSON at offset \d+/],
    ['trailing garbage', '{"magic": "PSTREE", "entries": []} x', /invalid JSON/],
    ['deep nesting', `${'['.repeat(100000)}${']'.repeat(100000)}`, /nested too deeply/],
    ['unknown magic', '{"magic": "NOPE", "entries": []}', /unknown magic "NOPE"/],
    ['entries not a list', '{"magic": "PSTREE", "entries": {}}', /\$\.entries: expected an array/],
    ['wrong field type', '{"magic": "PSTREE", "entries": [{"pid": "abc", "ppid": 0, "pgid": 0, "sid": 0}]}', /\$\.entries\[0\]\.pid: invalid integer "abc"/],
    ['out of range', '{"magic": "PSTREE", "entries": [{"pid": 99999999999, "ppid": 0, "pgid": 0, "sid": 0}]}', /entries\[0\]\.pid: 99999999999 is out of range/],
    ['u64 overflow', '{"magic": "PAGEMAP", "entries": [{"pages_id": 1}, {"vaddr": 18446744073709551616, "compat_nr_pages": 1}]}', /entries\[1\]\.vaddr: 18446744073709551616 is out of range for uint64/],
    ['missing required', '{"magic": "PSTREE", "entries": [{"pid": 1}]}', /entries\[0\]\.ppid: required field is missing/],
    // a 200-byte JSON must not make encode allocate what its size field says (4 GB, 1 TB)
    ['shm size past its bytes', '{"magic": "IPCNS_SHM", "entries": [{"desc": {"key": 0, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "mode": 384, "id": 0}, "size": 4000000000, "extra": "QUFBQQ=="}]}', /entries\[0\]\.size: the declared size 4000000000 does not fit the 4 bytes given/],
    ['shm size of a terabyte', '{"magic": "IPCNS_SHM", "entries": [{"desc": {"key": 0, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "mode": 384, "id": 0}, "size": 1000000000000, "extra": "QUFBQQ=="}]}', /does not fit the 4 bytes given/],
    ['bad enum', '{"magic": "CORE", "entries": [{"mtype": "VAX"}]}', /unknown core_entry\.march value "VAX"/],
    ['bad nested', '{"magic": "CORE", "entries": [{"mtype": "X86_64", "tc": 5}]}', /entries\[0\]\.tc: expected an object/],
    ['bad extra', '{"magic": "IPCNS_SEM", "entries": [{"desc": {"key": 0, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "mode": 0, "id": 0}, "nsems": 1, "extra": [70000]}]}', /extra\[0\]: expected a u16/],
    ['bad ip', '{"magic": "FILES", "entries": [{"id": 1, "type": "INETSK", "isk": {"src_addr": ["1.2.3.400"]}}]}', /bad IPv4 address/],
    ['proto keys', '{"magic": "PSTREE", "entries": [{"__proto__": {"pid": 1}, "pid": 1, "ppid": 0, "pgid": 0, "sid": 0}]}', /^$/],
  ];
  for (const [what, text, pattern] of cases) {
    it(what, () => {
      if (pattern.source === '^$') {
        // accepted, and nothing leaks through the prototype
        assert.ok(encodeImage(imageFromJson(text)).length > 0);
        assert.equal(({} as Record<string, unknown>).pid, undefined);
        return;
      }
      badImage(() => encodeImage(imageFromJson(text, 'in.json')), pattern);
    });
  }
});

describe('CLI', () => {
  const cliPath = new URL('../../src/cli/main.js', import.meta.url).pathname;
  it('exits 4 with one line naming the file and offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cryo-bad-'));
    try {
      const f = join(dir, 'core-1.img');
      writeFileSync(f, fx('core-').subarray(0, 50));
      const r = spawnSync(process.execPath, [cliPath, 'decode', '-i', f], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 4);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0], new RegExp(`^cryo: error: ${f}: truncated entry: \\d+ bytes declared: \\d+ bytes needed, 38 left at offset 12 \\(entry 0\\)$`));
      assert.match(lines[1], /^hint: /);
      const j = join(dir, 'x.json');
      writeFileSync(j, '{"magic": "CORE", "entries": [{"mtype": 1.5e999}]');
      const e = spawnSync(process.execPath, [cliPath, 'encode', '-i', j, '-o', join(dir, 'out.img')], { encoding: 'utf8' });
      assert.equal(e.status, 4);
      assert.match(e.stderr, /invalid JSON at offset/);
      const raw = spawnSync(process.execPath, [cliPath, 'encode', '-i', f], { encoding: 'utf8' });
      assert.equal(raw.status, 4);
      assert.match(raw.stderr, /not JSON \(it looks like a binary image\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
