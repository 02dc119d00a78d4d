// Acceptance for `cryo check --pid`: live trees, cryo's prediction, and real CRIU's outcome, in one test each.
// For each tree: the prediction (dumpable, options, blockers) is what we expect; `cryo dump -R` with no
// options succeeds exactly when the tree is predicted dumpable; when it fails it names the cause and
// leaves the tree running; the predicted options make the dump succeed; blockers keep it failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preflight } from '../../src/preflight/preflight.js';
import type { PreflightReport } from '../../src/preflight/types.js';
import { readNamespaces, readStatus } from '../../src/kernel/proc.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, cliPath, compileFixture, killTree, tempDir, waitFor } from '../helpers/trees.js';
import { rmSync } from 'node:fs';

interface Started {
  /** the tree to check and dump */
  pid: number;
  /** every pid to end afterwards (tree root, servers, tracers), by pid */
  kill: number[];
  /** extra cleanup (SysV objects) */
  after?: () => void;
  /** the root CRIU dumps, when not `pid` */
  rootPid?: number;
}

interface Case {
  name: string;
  start: (prog: string, dir: string) => Promise<Started>;
  dumpable: boolean;
  /** the exact predicted options, or a check on them */
  options: string[] | ((o: string[]) => boolean);
  blockers?: string[];
  /** what `cryo dump` says when the plain dump fails */
  cause?: RegExp;
  /** findings that must be present (kinds) */
  findings?: string[];
}

/** Starts PROG ARGS in its own session with stdio on /dev/null (the program closes fds 3..1023 itself). */
/** Every pid the running case started, ended by pid even when the case fails half-way. */
let startedHere: number[] = [];

function startDetached(prog: string, args: string[], detached = true): number {
  const child = spawn(prog, args, { detached, stdio: ['ignore', 'ignore', 'ignore'] });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${prog}`);
  startedHere.push(child.pid);
  return child.pid;
}

function fdTargets(pid: number): string[] {
  try {
    return spawnSync('ls', [`/proc/${pid}/fd`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
  } catch {
    return [];
  }
}

/** The first child of PID, or 0. */
function firstChild(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]) || 0;
  } catch {
    return 0;
  }
}

const hasFd = (pid: number, re: RegExp) => fdTargets(pid).some((t) => re.test(t));
/** The fixture reached idle() (pause, syscall 34 on x86-64): its socket is connected, its lock taken. */
const idling = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('34 ');
  } catch {
    return false;
  }
};
const fileText = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : '');

const CASES: Case[] = [
  {
    name: 'a plain loop',
    start: async (prog) => {
      const pid = startDetached(prog, ['loop']);
      await waitFor(() => fdTargets(pid).length === 3, 'loop ready');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
  },
  {
    name: 'a listening TCP socket (a server with no clients)',
    start: async (prog, dir) => {
      const portFile = join(dir, 'port');
      const pid = startDetached(prog, ['tcp-server', portFile]);
      await waitFor(() => fileText(portFile), 'listening');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['tcp-listen'],
  },
  {
    name: 'a connected UDP socket',
    start: async (prog) => {
      const pid = startDetached(prog, ['udp']);
      await waitFor(() => hasFd(pid, /^socket:/), 'udp socket');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['udp'],
  },
  {
    name: 'a TCP connection to a server outside the tree',
    start: async (prog, dir) => {
      const portFile = join(dir, 'port');
      const server = startDetached(prog, ['tcp-server', portFile]);
      const port = await waitFor(() => fileText(portFile), 'server port');
      const pid = startDetached(prog, ['tcp-client', port]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'client connected');
      return { pid, kill: [pid, server] };
    },
    dumpable: false,
    options: ['--tcp-established'],
    cause: /established TCP connection/,
    findings: ['tcp-established'],
  },
  {
    name: 'a TCP connection whose peer closed (CLOSE_WAIT)',
    start: async (prog, dir) => {
      const portFile = join(dir, 'port');
      const server = startDetached(prog, ['tcp-server', portFile]);
      const port = await waitFor(() => fileText(portFile), 'server port');
      const pid = startDetached(prog, ['tcp-client', port]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'client connected');
      killTree(server);
      await waitFor(() => !alive(server), 'server gone');
      await waitFor(() => preflight(pid).findings.some((f) => /CLOSE_WAIT/.test(f.message)), 'CLOSE_WAIT');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--tcp-established'],
    cause: /established TCP connection/,
  },
  {
    name: 'an established TCP connection inside the tree',
    start: async (prog) => {
      const pid = startDetached(prog, ['tcp-pair']);
      await waitFor(() => fdTargets(pid).filter((t) => t.startsWith('socket:')).length === 1 && readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(), 'pair connected');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--tcp-established'],
    cause: /established TCP connection/,
  },
  {
    name: 'a unix stream socket connected to a server outside the tree',
    start: async (prog, dir) => {
      const path = join(dir, 'server.sock');
      const server = startDetached(prog, ['unix-server', path]);
      await waitFor(() => existsSync(path), 'unix server');
      const pid = startDetached(prog, ['unix-client', path]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'unix client connected');
      return { pid, kill: [pid, server] };
    },
    dumpable: false,
    // CRIU's own hint (--ext-unix-sk) does not dump a stream socket; --external unix[INO] does
    options: (o) => o.length === 2 && o[0] === '--external' && /^unix\[\d+\]$/.test(o[1]),
    cause: /unix stream socket of the tree .* connected to a server outside/,
    findings: ['unix-external'],
  },
  {
    name: 'a unix seqpacket socket connected to a server outside the tree',
    start: async (prog, dir) => {
      const path = join(dir, 'seq.sock');
      const server = startDetached(prog, ['seqpacket-server', path]);
      await waitFor(() => existsSync(path), 'seqpacket server');
      const pid = startDetached(prog, ['seqpacket-client', path]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'seqpacket client connected');
      return { pid, kill: [pid, server] };
    },
    dumpable: false,
    options: (o) => o.length === 2 && o[0] === '--external' && /^unix\[\d+\]$/.test(o[1]),
    cause: /unix seqpacket socket of the tree .* connected to a server outside/,
  },
  {
    name: 'a unix datagram socket connected to a socket outside the tree',
    start: async (prog, dir) => {
      const path = join(dir, 'dgram.sock');
      const server = startDetached(prog, ['dgram-server', path]);
      await waitFor(() => existsSync(path), 'dgram server');
      const pid = startDetached(prog, ['dgram-client', path]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'dgram client connected');
      return { pid, kill: [pid, server] };
    },
    dumpable: false,
    options: ['--ext-unix-sk'],
    cause: /unix datagram socket/,
  },
  {
    name: 'a file lock (flock)',
    start: async (prog, dir) => {
      const pid = startDetached(prog, ['flock', join(dir, 'locked')]);
      await waitFor(() => hasFd(pid, /locked$/), 'lock taken');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--file-locks'],
    cause: /file lock/,
    findings: ['file-lock'],
  },
  {
    name: 'a file lock (POSIX)',
    start: async (prog, dir) => {
      const pid = startDetached(prog, ['posix-lock', join(dir, 'locked')]);
      await waitFor(() => hasFd(pid, /locked$/), 'lock taken');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--file-locks'],
    cause: /file lock/,
  },
  {
    name: 'a file lock (open file description)',
    start: async (prog, dir) => {
      const pid = startDetached(prog, ['ofd-lock', join(dir, 'locked')]);
      await waitFor(() => hasFd(pid, /locked$/), 'lock taken');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--file-locks'],
    cause: /file lock/,
  },
  {
    name: 'a file the tree has open while another process outside locks it',
    start: async (prog, dir) => {
      const file = join(dir, 'locked');
      const locker = startDetached(prog, ['flock', file]);
      await waitFor(() => hasFd(locker, /locked$/), 'lock taken');
      const pid = startDetached(prog, ['open', file]);
      await waitFor(() => hasFd(pid, /locked$/), 'file open');
      return { pid, kill: [pid, locker] };
    },
    dumpable: true,
    options: [],
  },
  {
    name: 'an open deleted file (small: a ghost file, works as is)',
    start: async (prog, dir) => {
      const pid = startDetached(prog, ['deleted', join(dir, 'gone'), '8192']);
      await waitFor(() => hasFd(pid, /gone \(deleted\)$/), 'file deleted');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['deleted-file'],
  },
  {
    name: 'an open deleted file over the ghost limit',
    start: async (prog, dir) => {
      const pid = startDetached(prog, ['deleted', join(dir, 'big'), String(3 * 1024 * 1024)]);
      await waitFor(() => hasFd(pid, /big \(deleted\)$/), 'file deleted');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--ghost-limit', String(3 * 1024 * 1024)],
    cause: /deleted file .* larger than CRIU's ghost-file limit/,
  },
  {
    name: 'a file open under a removed name that still has another link',
    start: async (prog, dir) => {
      const file = join(dir, 'first');
      const pid = startDetached(prog, ['open', file]);
      await waitFor(() => hasFd(pid, /first$/), 'file open');
      linkSync(file, join(dir, 'second'));
      unlinkSync(file);
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--link-remap'],
    cause: /another link/,
    findings: ['linked-file'],
  },
  {
    name: 'a deleted executable over the ghost limit (a rebuilt binary)',
    start: async (prog, dir) => {
      // an ELF runs with bytes appended: a 3 MiB program file, deleted once running
      const exe = join(dir, 'big-program');
      writeFileSync(exe, Buffer.concat([readFileSync(prog), Buffer.alloc(3 * 1024 * 1024)]), { mode: 0o755 });
      const pid = startDetached(exe, ['loop']);
      await waitFor(() => fdTargets(pid).length === 3, 'started');
      unlinkSync(exe);
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: ['--ghost-limit', String(4 * 1024 * 1024)],
    cause: /deleted file .*big-program.* larger than CRIU's ghost-file limit/,
  },
  {
    name: 'a process working in a deleted directory',
    start: async (prog, dir) => {
      const cwd = join(dir, 'gone-dir');
      mkdirSync(cwd);
      const child = spawn(prog, ['loop'], { detached: true, stdio: 'ignore', cwd });
      child.unref();
      const pid = child.pid!;
      await waitFor(() => fdTargets(pid).length === 3, 'started');
      rmdirSync(cwd);
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['deleted-cwd'],
  },
  {
    name: 'a memfd, open and mapped',
    start: async (prog) => {
      const pid = startDetached(prog, ['memfd']);
      await waitFor(() => hasFd(pid, /^\/memfd:/), 'memfd');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['memfd'],
  },
  {
    name: 'io_uring',
    start: async (prog) => {
      const pid = startDetached(prog, ['uring']);
      await waitFor(() => hasFd(pid, /io_uring/), 'io_uring set up');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: [],
    blockers: ['io_uring'],
    cause: /io_uring/,
  },
  {
    name: 'a task traced by another process',
    start: async (prog) => {
      const pid = startDetached(prog, ['loop']);
      await waitFor(() => fdTargets(pid).length === 3, 'loop ready');
      const tracer = startDetached(prog, ['trace', String(pid)]);
      await waitFor(() => Number(readStatus(pid)?.TracerPid ?? 0) === tracer, 'tracer attached');
      return { pid, kill: [tracer, pid] };
    },
    dumpable: false,
    options: [],
    blockers: ['traced'],
    cause: /traced by pid \d+, so CRIU cannot attach/,
  },
  {
    name: 'a thread (not the main one) traced by another process',
    start: async (prog, dir) => {
      const tidFile = join(dir, 'tid');
      const pid = startDetached(prog, ['thread', tidFile]);
      const tid = Number(await waitFor(() => fileText(tidFile), 'thread started'));
      const tracer = startDetached(prog, ['trace', String(tid)]);
      await waitFor(() => Number(readStatus(tid)?.TracerPid ?? 0) === tracer, 'tracer attached');
      return { pid, kill: [tracer, pid] };
    },
    dumpable: false,
    options: [],
    blockers: ['traced'],
    cause: /traced by pid \d+, so CRIU cannot attach/,
  },
  {
    name: 'a process on a terminal (pty master outside the tree)',
    start: async (prog, dir) => {
      const pidFile = join(dir, 'pid');
      const holder = startDetached(prog, ['pty', pidFile]);
      const pid = Number(await waitFor(() => fileText(pidFile), 'pty child'));
      await waitFor(() => hasFd(pid, /^\/dev\/pts\/\d+$/), 'child on the pty');
      return { pid, kill: [pid, holder] };
    },
    dumpable: false,
    options: ['--shell-job'],
    cause: /terminal/,
    findings: ['terminal'],
  },
  {
    name: 'a shell job (root not a session leader)',
    start: async (prog) => {
      // a session of our own, led by a shell outside the tree: the test runner's session may be led from
      // outside its pid namespace (CI in a container), which no option can dump
      const leader = startDetached('sh', ['-c', '"$0" loop & wait', prog]);
      const pid = await waitFor(() => firstChild(leader), 'shell job started');
      startedHere.push(pid);
      await waitFor(() => fdTargets(pid).length === 3, 'loop ready');
      return { pid, kill: [pid, leader] };
    },
    dumpable: false,
    options: ['--shell-job'],
    cause: /session/,
  },
  {
    name: 'SysV IPC objects (shared memory attached, host IPC namespace)',
    start: async (prog, dir) => {
      const idFile = join(dir, 'ids');
      const pid = startDetached(prog, ['sysv', idFile]);
      const [sem, msg] = (await waitFor(() => fileText(idFile), 'sysv ids')).split(' ');
      return { pid, kill: [pid], after: () => void spawnSync('ipcrm', ['-s', sem, '-q', msg]) };
    },
    dumpable: false,
    options: [],
    blockers: ['sysv-shm'],
    cause: /SysV shared memory/,
  },
  {
    name: 'SysV IPC objects in the tree\'s own IPC namespace',
    start: async (prog, dir) => {
      const idFile = join(dir, 'ids');
      // unshare execs the program: the pid is the program's, in a fresh IPC namespace
      const pid = startDetached('unshare', ['--ipc', prog, 'sysv', idFile]);
      await waitFor(() => fileText(idFile), 'sysv ids');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['sysv-shm', 'namespace'],
  },
  {
    name: 'its own pid namespace, init started with setsid',
    start: async (prog) => {
      const outer = startDetached('unshare', ['--pid', '--fork', 'setsid', prog, 'fanout', '2']);
      const pid = await waitFor(() => firstChild(outer), 'namespace init');
      await waitFor(() => firstChild(pid), 'its child');
      return { pid, kill: [pid, outer] };
    },
    dumpable: true,
    options: [],
    findings: ['namespace'],
  },
  {
    name: 'a process inside a pid namespace that is not its init',
    start: async (prog) => {
      const outer = startDetached('unshare', ['--pid', '--fork', 'setsid', prog, 'fanout', '2']);
      const init = await waitFor(() => firstChild(outer), 'namespace init');
      const pid = await waitFor(() => firstChild(init), 'its child');
      return { pid, kill: [init, outer] };
    },
    dumpable: false,
    options: [],
    blockers: ['pidns-not-init'],
    cause: /pid namespace/,
  },
  {
    name: 'a pid namespace whose init is not a session leader',
    start: async (prog) => {
      const outer = startDetached('unshare', ['--pid', '--fork', prog, 'loop']);
      const pid = await waitFor(() => firstChild(outer), 'namespace init');
      return { pid, kill: [pid, outer] };
    },
    dumpable: false,
    options: [],
    blockers: ['session'],
    cause: /session leader/,
  },
  {
    name: 'its own mount namespace with stdio opened outside it',
    start: async (prog) => {
      const pid = startDetached('unshare', ['--mount', prog, 'loop']);
      await waitFor(() => readNamespaces(pid).mnt !== readNamespaces('self').mnt && fdTargets(pid).length === 3, 'in its mount namespace');
      return { pid, kill: [pid] };
    },
    dumpable: false,
    options: [],
    blockers: ['foreign-mount', 'foreign-mount', 'foreign-mount'],
    cause: /mount outside the process's mount namespace/,
  },
  {
    name: 'its own network namespace',
    start: async (prog) => {
      const pid = startDetached('unshare', ['--net', prog, 'loop']);
      await waitFor(() => readNamespaces(pid).net !== readNamespaces('self').net && fdTargets(pid).length === 3, 'in its network namespace');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['namespace'],
  },
  {
    name: 'a tree started by cryo run (checked through its namespace init)',
    start: async (prog) => {
      const r = await cli(['run', '--json', '--', prog, 'fanout', '3']);
      assert.equal(r.status, 0, r.stderr);
      const { pid, rootPid } = JSON.parse(r.stdout) as { pid: number; rootPid: number };
      await waitFor(() => firstChild(pid), 'its children');
      return { pid, kill: [rootPid], rootPid };
    },
    dumpable: true,
    options: [],
  },
  {
    name: 'a zombie and a stopped process in the tree',
    start: async (prog) => {
      const pid = startDetached(prog, ['fanout', '3']);
      const kids = await waitFor(() => {
        const k = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
        return k.length === 2 ? k : undefined;
      }, 'two children');
      process.kill(kids[0], 'SIGKILL');
      process.kill(kids[1], 'SIGSTOP');
      await waitFor(() => readStatus(kids[0])?.State?.startsWith('Z') && readStatus(kids[1])?.State?.startsWith('T'), 'zombie and stopped');
      return { pid, kill: [pid] };
    },
    dumpable: true,
    options: [],
    findings: ['zombie', 'stopped'],
  },
  {
    name: 'its own network namespace with a unix socket to a server outside',
    start: async (prog, dir) => {
      const path = join(dir, 'server.sock');
      const server = startDetached(prog, ['unix-server', path]);
      await waitFor(() => existsSync(path), 'unix server');
      const pid = startDetached('unshare', ['--net', prog, 'unix-client', path]);
      await waitFor(() => hasFd(pid, /^socket:/) && idling(pid), 'unix client connected');
      return { pid, kill: [pid, server] };
    },
    dumpable: false,
    // the peer is found with sock_diag inside the tree's network namespace
    options: (o) => o.length === 2 && o[0] === '--external' && /^unix\[\d+\]$/.test(o[1]),
    cause: /unix stream socket of the tree/,
  },
];

/** `cryo dump PID -R` into a fresh dir under `base`; returns the CLI result. */
async function cryoDump(base: string, n: number, pid: number, options: string[]) {
  const dir = join(base, `img-${n}`);
  return cli(['dump', String(pid), '-D', dir, '-R', ...options], { timeoutMs: 60_000 });
}

function checkPrediction(c: Case, r: PreflightReport): void {
  assert.equal(r.dumpable, c.dumpable, `dumpable: ${JSON.stringify(r)}`);
  if (typeof c.options === 'function') assert.ok(c.options(r.options), `options: ${JSON.stringify(r.options)}`);
  else assert.deepEqual(r.options, c.options);
  assert.deepEqual(r.blockers.map((b) => b.kind), c.blockers ?? []);
  for (const kind of c.findings ?? []) assert.ok(r.findings.some((f) => f.kind === kind), `finding ${kind}: ${JSON.stringify(r.findings)}`);
  for (const b of r.blockers) assert.equal(b.pid, r.rootPid);
}

test('preflight predicts real CRIU on live trees', { timeout: 600_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const work = tempDir('cryo-preflight-');
  const prog = compileFixture('preflight-trees.c', work, ['-pthread']);
  if (!prog) {
    rmSync(work, { recursive: true, force: true });
    throw new Error('gcc is needed to build test/fixtures/preflight-trees.c');
  }
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // PREFLIGHT_CASE=text runs only the cases whose name contains it (for debugging one tree)
  const only = process.env.PREFLIGHT_CASE;
  for (const [i, c] of CASES.entries()) {
    if (only && !c.name.includes(only)) continue;
    await t.test(c.name, async () => {
      const dir = join(work, `case-${i}`);
      spawnSync('mkdir', ['-p', dir]);
      startedHere = [];
      let started: Started | undefined;
      try {
        started = await c.start(prog, dir);
        const report = preflight(started.pid);
        checkPrediction(c, report);
        assert.equal(report.rootPid, started.rootPid ?? started.pid);

        // CRIU's outcome with no options equals the prediction
        const plain = await cryoDump(dir, 0, started.pid, []);
        assert.equal(plain.status === 0, report.dumpable, `plain dump: ${plain.stderr}`);
        assert.ok(alive(started.pid), 'the tree still runs after the dump');
        if (plain.status !== 0) {
          assert.match(plain.stderr, /dump failed: /);
          if (c.cause) assert.match(plain.stderr, c.cause);
          assert.match(plain.stderr, /still runs/);
        }
        if (!report.dumpable) {
          // the named options make CRIU succeed; blockers keep it failing whatever the options
          const fixed = await cryoDump(dir, 1, started.pid, report.options);
          if (report.blockers.length === 0) assert.equal(fixed.status, 0, `dump with ${report.options.join(' ')}: ${fixed.stderr}`);
          else assert.notEqual(fixed.status, 0, 'a blocker must make the dump fail');
          assert.ok(alive(started.pid), 'the tree still runs after the second dump');
        }

        // the CLI agrees with the library (JSON and exit status)
        const check = await cli(['check', '--pid', String(started.pid), '--json']);
        assert.equal(check.status, report.blockers.length ? 6 : report.options.length ? 5 : 0, check.stderr);
        assert.ok(check.stdout.trim(), `cryo check printed nothing: ${check.stderr}`);
        const j = JSON.parse(check.stdout) as PreflightReport;
        assert.equal(j.dumpable, report.dumpable);
        assert.deepEqual(j.blockers.map((b) => b.kind), report.blockers.map((b) => b.kind));
      } finally {
        // the listed order first (a tracer before its tracee), then anything else the case started
        const all = [...new Set([...(started?.kill ?? []), ...startedHere])];
        for (const p of all) if (alive(p)) killTree(p);
        await waitFor(() => all.every((p) => !alive(p)), 'trees ended');
        started?.after?.();
      }
    });
  }
});

test('preflight of a pid that does not exist is an error naming the pid', async (t) => {
  if (!criuFor(t)) return;
  const r = await cli(['check', '--pid', '999999999']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no process 999999999/);
});

// CI runs in a container entered from a session on the host: a tree started without setsid there has a
// session leader outside its pid namespace (its sid reads 0), which CRIU refuses whatever the options.
// Reproduced here by running check and dump inside a fresh pid namespace entered without setsid.
test('a tree whose session leader is outside its pid namespace: a blocker, and the dump explains it', async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const work = tempDir('cryo-sid0-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const prog = compileFixture('preflight-trees.c', work, ['-pthread']);
  assert.ok(prog, 'gcc is needed to build test/fixtures/preflight-trees.c');
  const script = [
    '"$PROG" loop </dev/null >/dev/null 2>&1 &',
    'p=$!',
    'while [ "$(ls /proc/$p/fd 2>/dev/null | wc -l)" != 3 ]; do sleep 0.05; done',
    '"$NODE" "$CLI" check --pid $p --json >"$W/check.json" 2>"$W/check.err"; echo $? >"$W/check.rc"',
    '"$NODE" "$CLI" dump $p -D "$W/img" -R --shell-job >/dev/null 2>"$W/dump.err"; echo $? >"$W/dump.rc"',
    'kill -0 $p && echo yes >"$W/alive"',
    'kill -9 $p',
  ].join('\n');
  // setsid: the session leader is this unshare, outside the new namespace; --kill-child ends the namespace
  // if the test gives up
  const r = spawnSync('setsid', ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', script], {
    env: { ...process.env, PROG: prog, NODE: process.execPath, CLI: cliPath, W: work, CRYO_CRIU: criu.path, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `namespace script: ${r.stderr}`);
  const check = JSON.parse(readFileSync(join(work, 'check.json'), 'utf8')) as PreflightReport;
  assert.equal(readFileSync(join(work, 'check.rc'), 'utf8').trim(), '6', 'check --pid exits 6: blocked');
  assert.equal(check.dumpable, false);
  assert.deepEqual(check.blockers.map((b) => b.kind), ['session']);
  assert.equal(readFileSync(join(work, 'dump.rc'), 'utf8').trim(), '1');
  const err = readFileSync(join(work, 'dump.err'), 'utf8');
  assert.match(err, /session leader of \d+\(\d+\) is outside its pid namespace/);
  assert.match(err, /hint: start the tree with setsid or `cryo run`/);
  assert.match(err, /still runs/);
  assert.equal(readFileSync(join(work, 'alive'), 'utf8').trim(), 'yes', 'the tree still runs after the dump');
});
