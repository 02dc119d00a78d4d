// Preflight pieces that need neither root nor CRIU: /proc parsers, sock_diag on this process's own
// sockets, kcmp on its own fds, and the preflight of this very process (its own tree) and its rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KcmpType, kcmp, sameFile } from '../../src/kernel/kcmp.js';
import { parseFdInfo, parseMaps, readFds, readStat } from '../../src/kernel/proc.js';
import { listTree } from '../../src/kernel/process.js';
import { diagInet, diagUnix, readProcSockets } from '../../src/kernel/sock-diag.js';
import { preflight } from '../../src/preflight/preflight.js';
import { renderPreflight } from '../../src/cli/preflight.js';
import type { PreflightReport } from '../../src/preflight/types.js';

function socketInode(fd: number): number {
  const t = readFds(process.pid).find((f) => f.fd === fd)?.target ?? '';
  return Number(/^socket:\[(\d+)\]$/.exec(t)?.[1]);
}

test('parseFdInfo: position, octal flags, mount, locks and extra keys', () => {
  const info = parseFdInfo(
    'pos:\t0\nflags:\t0100002\nmnt_id:\t27\nino:\t2155648\nlock:\t1: FLOCK  ADVISORY  WRITE 6778 fe:00:2155648 0 EOF\ntty-index:\t3\n',
  );
  assert.equal(info.flags, 0o100002);
  assert.equal(info.mntId, 27);
  assert.equal(info.ino, 2155648);
  assert.deepEqual(info.locks, ['1: FLOCK  ADVISORY  WRITE 6778 fe:00:2155648 0 EOF']);
  assert.equal(info.extra['tty-index'], '3');
});

test('parseMaps: SysV, deleted, anonymous and named lines', () => {
  const maps = parseMaps(
    [
      '7f3df21be000-7f3df21ce000 rw-s 00000000 00:01 0                          /SYSV00000000 (deleted)',
      '55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]',
      '7f0000000000-7f0000001000 r--p 00001000 fe:00 2155648                    /tmp/x y (deleted)',
      '7f0000002000-7f0000003000 rw-p 00000000 00:00 0 ',
    ].join('\n'),
  );
  assert.equal(maps.length, 4);
  assert.equal(maps[0].path, '/SYSV00000000 (deleted)');
  assert.equal(maps[0].end - maps[0].start, 0x10000n);
  assert.equal(maps[2].path, '/tmp/x y (deleted)');
  assert.equal(maps[2].inode, 2155648);
  assert.equal(maps[2].offset, 0x1000n);
  assert.equal(maps[3].path, '');
});

test('readStat survives a comm with spaces and parentheses', () => {
  const s = readStat(process.pid);
  assert.ok(s);
  assert.equal(s.pid, process.pid);
  assert.equal(s.ppid, process.ppid);
  assert.ok(listTree(process.pid).includes(process.pid));
});

test('kcmp: dup of one fd is the same open file, a second open is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-kcmp-'));
  try {
    const a = openSync(join(dir, 'f'), 'w');
    const b = openSync(join(dir, 'f'), 'r');
    const fds = readFds(process.pid).map((f) => f.fd);
    assert.ok(fds.includes(a) && fds.includes(b));
    assert.equal(sameFile(process.pid, a, process.pid, a), true);
    assert.equal(sameFile(process.pid, a, process.pid, b), false);
    assert.equal(kcmp(process.pid, process.pid, KcmpType.VM), 0);
    assert.ok(kcmp(process.pid, 2 ** 22 + 7, KcmpType.VM) < 0, 'a missing pid is an error (negative errno)');
    closeSync(a);
    closeSync(b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sock_diag and /proc/net agree on this process\'s TCP connection; unix peers come from netlink', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-diag-'));
  const tcpServer = net.createServer(() => {});
  const unixServer = net.createServer(() => {});
  const sockets: net.Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
    tcpServer.close();
    unixServer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  tcpServer.listen(0, '127.0.0.1');
  await once(tcpServer, 'listening');
  const port = (tcpServer.address() as net.AddressInfo).port;
  const accepted = once(tcpServer, 'connection');
  const c = net.connect(port, '127.0.0.1');
  sockets.push(c);
  await once(c, 'connect');
  sockets.push((await accepted)[0] as net.Socket);

  const path = join(dir, 's.sock');
  unixServer.listen(path);
  await once(unixServer, 'listening');
  const uAccepted = once(unixServer, 'connection');
  const u = net.connect(path);
  sockets.push(u);
  await once(u, 'connect');
  sockets.push((await uAccepted)[0] as net.Socket);

  const cIno = socketInode((c as unknown as { _handle: { fd: number } })._handle.fd);
  const inet = diagInet().get(cIno);
  assert.ok(inet, 'the client socket is in the netlink dump');
  assert.equal(inet.stateName, 'ESTABLISHED');
  assert.equal(inet.remote, `127.0.0.1:${port}`);
  const viaProc = readProcSockets('self').inet.get(cIno);
  assert.deepEqual(viaProc, inet);

  const uIno = socketInode((u as unknown as { _handle: { fd: number } })._handle.fd);
  const unix = diagUnix();
  const mine = unix.get(uIno);
  assert.ok(mine);
  assert.equal(mine.type, 1);
  assert.ok(mine.peer && mine.peer > 0);
  assert.equal(unix.get(mine.peer)?.name, path, 'the peer is the accepted socket, named after the listener');
  assert.equal(unix.get(mine.peer)?.peer, uIno);

  // this process is its own tree: the TCP connection needs --tcp-established, the unix one is internal
  const r = preflight(process.pid);
  assert.equal(r.dumpable, false);
  assert.ok(r.options.includes('--tcp-established'));
  // (the test runner's own unix sockets to its parent may be external; ours are not)
  assert.ok(!r.options.includes(`unix[${uIno}]`) && !r.options.includes(`unix[${mine.peer}]`), JSON.stringify(r.options));
  assert.ok(r.findings.some((f) => f.kind === 'tcp-established' && f.message.includes(`127.0.0.1:${port}`)));
  assert.ok(r.findings.some((f) => f.kind === 'unix' && f.message.includes(`connected to pid ${process.pid}`)));
  assert.ok(r.findings.some((f) => f.kind === 'unix-listen' && f.message.includes(path)));
});

test('preflight of a missing pid throws NO_PROCESS', () => {
  assert.throws(() => preflight(2 ** 22 + 7), (e: Error & { code?: string }) => e.code === 'NO_PROCESS' && /no process/.test(e.message));
});

test('renderPreflight: verdict line, the dump command, blockers, findings by process', () => {
  const base: PreflightReport = {
    pid: 10,
    rootPid: 10,
    dumpable: false,
    options: ['--external', 'unix[123]'],
    blockers: [],
    findings: [{ pid: 11, fd: 3, kind: 'unix-external', message: 'unix stream socket (inode 123) connected outside' }],
    processes: [
      { pid: 10, ppid: 1, comm: 'srv', state: 'S', threads: 1, pgid: 10, sid: 10, tracerPid: 0, fds: 3 },
      { pid: 11, ppid: 10, comm: 'worker', state: 'S', threads: 1, pgid: 10, sid: 10, tracerPid: 0, fds: 4 },
    ],
  };
  const text = renderPreflight(base);
  const lines = text.split('\n');
  assert.equal(lines[0], 'dumpable with options: tree 10 (2 processes)');
  assert.equal(lines[1], "  cryo dump 10 -D ./ckpt --external 'unix[123]'");
  assert.match(text, /\n {2}11 worker\n {4}fd 3: unix stream socket/);
  assert.doesNotMatch(text, /\x1b\[/);

  const blocked = renderPreflight({
    ...base,
    options: [],
    blockers: [{ pid: 10, kind: 'io_uring', fd: 5, message: 'an io_uring instance' }],
    findings: [{ pid: 10, kind: 'io_uring', fd: 5, message: 'an io_uring instance' }],
  });
  assert.match(blocked, /^not dumpable: tree 10 \(2 processes\): 1 blocker no option fixes\n/);
  assert.match(blocked, /blockers:\n {2}pid 10 fd 5: an io_uring instance/);
  assert.equal(blocked.match(/an io_uring instance/g)?.length, 1, 'a blocker is shown once');

  const ok = renderPreflight({ ...base, dumpable: true, options: [], findings: [], processes: base.processes.slice(0, 1) });
  assert.equal(ok, 'dumpable: tree 10 (1 process), no extra options needed\n');
});
