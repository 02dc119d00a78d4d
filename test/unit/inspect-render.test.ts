// Text renderers used by the inspection commands: sizes, durations, columns, trees, crit's views.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRange } from '../../src/cli/commands/mem.js';
import { renderDiff } from '../../src/cli/render/diff.js';
import { renderMems, renderPs, renderRss } from '../../src/cli/render/explore.js';
import { renderInspect } from '../../src/cli/render/inspect.js';
import type { CheckpointDiff } from '../../src/inspect/diff.js';
import type { CheckpointModel, ProcessModel } from '../../src/inspect/model.js';
import { hexdumpLines } from '../../src/cli/render/hexdump.js';
import { columns, groupDigits, humanBytes, humanMicros } from '../../src/cli/render/text.js';
import { renderTree } from '../../src/cli/render/tree.js';
import { CryoError } from '../../src/errors.js';

describe('text renderers', () => {
  it('human sizes and durations', () => {
    assert.equal(humanBytes(0), '0 B');
    assert.equal(humanBytes(1023), '1023 B');
    assert.equal(humanBytes(1024), '1 KiB');
    assert.equal(humanBytes(1536), '1.5 KiB');
    assert.equal(humanBytes(3.68 * 1024 * 1024), '3.68 MiB');
    assert.equal(humanBytes(512n << 20n), '512 MiB');
    assert.equal(humanMicros(249), '249 µs');
    assert.equal(humanMicros(10875), '10.9 ms');
    assert.equal(humanMicros(2_500_000), '2.5 s');
    assert.equal(groupDigits(1234567), '1,234,567');
  });

  it('aligns columns without trailing spaces, colour codes not counted', () => {
    assert.deepEqual(columns([['a', '1', 'x'], ['bbb', '22', '']], ['left', 'right']), ['a     1  x', 'bbb  22']);
    assert.deepEqual(columns([['\x1b[1ma\x1b[0m', 'z'], ['bb', 'y']]), ['\x1b[1ma\x1b[0m   z', 'bb  y']);
  });

  it('draws a tree with bodies under each node', () => {
    const lines = renderTree([{ label: 'root', body: ['r1'], children: [{ label: 'a', body: ['a1'], children: [{ label: 'c' }] }, { label: 'b', body: ['b1'] }] }]);
    assert.deepEqual(lines, ['root', '│  r1', '├── a', '│   │  a1', '│   └── c', '└── b', '        b1']);
    assert.deepEqual(renderTree([{ label: 'r', children: [{ label: 'k' }] }], { ascii: true }), ['r', '`-- k']);
  });

  it("renders crit's ps, mems and rss layouts", () => {
    assert.equal(renderPs([{ pid: 10, pgid: 10, sid: 1, comm: 'sh', depth: 0 }, { pid: 11, pgid: 10, sid: 1, comm: 'sleep', depth: 1 }]),
      '    PID   PGID    SID   COMM\n     10     10      1   sh\n     11     10      1       sleep\n');
    assert.equal(renderMems([{ pid: 5, exe: '/bin/x', vmas: [{ start: 0x1000, end: 0x2000, prot: 'r-x', name: ' /bin/x' }, { start: 0xffffffffff600000n, end: 0xffffffffff601000n, prot: '--x', name: ' [vsyscall] *' }] }]),
      `5\n\t${'exe'.padEnd(36)}    /bin/x\n\t${'00001000-00002000'.padEnd(36)}r-x /bin/x\n\t${'ffffffffff600000-ffffffffff601000'.padEnd(36)}--x [vsyscall] *\n`);
    assert.equal(renderRss([{ pid: 5, runs: [{ vaddr: 0x1000n, pages: 2, vmas: [{ start: 0x1000n, pages: 1, file: '/bin/x' }, 'same'] }] }]),
      `5\n${'\t1000 / 2       '.padEnd(24)} 00001000 / 1        /bin/x\n\t${' '.repeat(23)} ~\n\t${' '.repeat(23)}\n`);
  });

  it('hex dumps with aligned rows', () => {
    const lines = hexdumpLines(Buffer.from('ABCDEFGHIJKLMNOPQR'), 0x1008);
    assert.equal(lines.length, 2);
    assert.equal(lines[0], `  000000001000 ${' '.repeat(24)}  41 42 43 44 45 46 47 48  |        ABCDEFGH|`);
    assert.match(lines[1]!, /^ {2}000000001010 {2}49 4a .* \|IJKLMNOPQR {6}\|$/);
  });

  it('parses --dump ranges and rejects bad ones', () => {
    assert.deepEqual(parseRange('0x7f00dead0000+4096'), { addr: 0x7f00dead0000, len: 4096 });
    assert.deepEqual(parseRange('7f00dead0000+0x10'), { addr: 0x7f00dead0000, len: 16 });
    assert.deepEqual(parseRange('1000+4k'), { addr: 0x1000, len: 4096 });
    assert.deepEqual(parseRange('1000+2MiB'), { addr: 0x1000, len: 2 << 20 });
    assert.deepEqual(parseRange('0x1000'), { addr: 0x1000 });
    for (const bad of ['', 'zz', '0x1000+', '0x1000+0', '0x1000+-4']) assert.throws(() => parseRange(bad), (e: unknown) => e instanceof CryoError && e.exitCode === 2, bad);
  });

  const proc = (over: Partial<ProcessModel>): ProcessModel => ({
    pid: 1, ppid: 0, pgid: 1, sid: 1, comm: 'bash', state: 'alive', threads: 1, tasks: [{ tid: 1, comm: 'bash' }], namespaces: {}, fds: [], mappings: [],
    memory: { mappedBytes: 0, dumpedPages: 0, dumpedBytes: 0 }, children: [], ...over,
  });
  const noPaint = { color: false, maps: false, paint: (_c: string, t: string) => t };

  it("inspect: a thread count, cryo's init as one line, text from the checkpoint escaped", () => {
    const m: CheckpointModel = {
      dir: '/ck', processes: [
        proc({ cmdline: ['/usr/bin/bash', '-c', 'exec 1>&3\nwhile :; do wait; done', 'cryo-init', '-', '/bin/app'], children: [2] }),
        proc({
          pid: 2, ppid: 1, comm: 'app\x1b[2J', threads: 3, tasks: [{ tid: 2 }, { tid: 3 }, { tid: 4 }], cmdline: ['/bin/app', 'evil\x1b]0;title\x07'], cwd: '/tmp/new\nline',
          fds: [{ fd: 3, type: 'REG', fileId: 1, description: '/tmp/\x1b[31mred', flags: 0 }],
        }),
      ],
    };
    const out = renderInspect(m, noPaint);
    assert.match(out, /^cryo-init \(namespace init of cryo run\) pid 1 /m);
    assert.doesNotMatch(out, /cmdline +\/usr\/bin\/bash/, "the init's script is not shown");
    assert.match(out, /threads +3$/m);
    assert.match(out, /cmdline +\/bin\/app \$'evil\\x1b\]0;title\\x07'$/m);
    assert.match(out, /cwd +\/tmp\/new\\nline/);
    assert.match(out, /REG +\/tmp\/\\x1b\[31mred/);
    assert.match(out, /app\\x1b\[2J pid 2/);
    assert.doesNotMatch(out, /[\x00-\x09\x0b-\x1f]/, 'no control character but newlines');
  });

  it('diff: escaped names; "no differences" only when the checkpoints are the same', () => {
    const d: CheckpointDiff = { a: '/a', b: '/b', processesAdded: [{ pid: 5, comm: 'x\x1b' }], processesGone: [], processes: [], same: false };
    assert.equal(renderDiff(d, { color: false, pages: false, paint: noPaint.paint }), 'diff /a -> /b\n+ process 5 x\\x1b\n');
    assert.equal(renderDiff({ ...d, processesAdded: [], same: true }, { color: false, pages: false, paint: noPaint.paint }), 'diff /a -> /b\nno differences\n');
  });
});
