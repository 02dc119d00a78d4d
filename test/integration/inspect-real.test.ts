// Inspection of real CRIU dumps: cryo x against crit, memory search and dump at a planted
// address, a diff that reports exactly the pages the program changed, a missing image.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { criuFor, critFor, requireOrSkip } from '../helpers/env.js';
import { cli, compileFixture, killTree, lines, tempDir, waitFor } from '../helpers/trees.js';

interface Planted { pid: number; childPid: number; needle: string; needleAddr: number; region: number; shared: number; port: number; out: string }

const NEEDLE = 'CRYO-PLANTED-7f3a9c-NEEDLE';
let work: string;
let started: number[] = [];
let criuPath: string | undefined;
let planted: Planted | undefined;
let d1: string;
let d2: string;

function criuDump(pid: number, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(criuPath!, ['dump', '-t', String(pid), '-D', dir, '--leave-running', '-o', 'dump.log'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`criu dump failed (${r.status}): ${readFileSync(join(dir, 'dump.log'), 'utf8').split('\n').slice(-8).join('\n')}`);
}

async function startPlant(bin: string): Promise<Planted> {
  const out = join(work, 'plant.out');
  const fd = openSync(out, 'w');
  // detached: own session; stdio only (the program closes anything else it inherited)
  const child = spawn(bin, [NEEDLE, join(work, 'plant.sock')], { detached: true, stdio: ['ignore', fd, fd], cwd: work });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  started.push(pid);
  await waitFor(() => lines(out).includes('ready'), 'the test program to start');
  const kv = Object.fromEntries(lines(out).map((l) => l.split(' ')));
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  return { pid, childPid: kids[0]!, needle: NEEDLE, needleAddr: Number.parseInt(kv.needle, 16), region: Number.parseInt(kv.region, 16), shared: Number.parseInt(kv.shared, 16), port: Number(kv.port), out };
}

function normalize(s: string): string {
  return s.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean).join('\n');
}

describe('inspection of real dumps', () => {
  let ready = false;
  before(async () => {
    work = tempDir('cryo-inspect-');
    d1 = join(work, 'd1');
    d2 = join(work, 'd2');
  });
  after(() => {
    for (const pid of started) killTree(pid);
    started = [];
    rmSync(work, { recursive: true, force: true });
  });

  async function setup(t: TestContext): Promise<boolean> {
    if (ready) return true;
    const criu = criuFor(t);
    if (!criu) return false;
    criuPath = criu.path;
    const bin = compileFixture('inspect-plant.c', work);
    if (!requireOrSkip(t, bin !== undefined, 'gcc is missing (the test program is C)')) return false;
    planted = await startPlant(bin!);
    criuDump(planted.pid, d1);
    process.kill(planted.pid, 'SIGUSR1');
    await waitFor(() => lines(planted!.out).includes('changed 1'), 'the program to change its pages');
    criuDump(planted.pid, d2);
    ready = true;
    return true;
  }

  for (const view of ['ps', 'fds', 'mems', 'rss']) {
    it(`cryo x ${view} shows what crit x ${view} shows`, async (t) => {
      if (!(await setup(t))) return;
      const crit = critFor(t);
      if (!crit) return;
      for (const dir of [d1, d2]) {
        const theirs: { status: number | null; stdout: string; stderr: string } = spawnSync(crit, ['x', dir, view], { encoding: 'utf8' });
        assert.equal(theirs.status, 0, theirs.stderr);
        const ours = await cli(['x', dir, view]);
        assert.equal(ours.status, 0, ours.stderr);
        assert.equal(normalize(ours.stdout), normalize(theirs.stdout));
      }
    });
  }

  it('cryo mem --search finds the planted string at its address, across a page boundary', async (t) => {
    if (!(await setup(t))) return;
    const p = planted!;
    const r = await cli(['mem', d1, '--pid', String(p.pid), '--search', NEEDLE, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    const addrs = res.matches.map((m: { address: string }) => Number.parseInt(m.address, 16));
    assert.ok(addrs.includes(p.needleAddr), `expected a match at 0x${p.needleAddr.toString(16)}, got ${res.matches.map((m: { address: string }) => m.address)}`);
    const m = res.matches.find((x: { address: string }) => Number.parseInt(x.address, 16) === p.needleAddr);
    assert.equal(m.pid, p.pid);
    assert.equal(m.match, NEEDLE);
    assert.ok(Math.floor(p.needleAddr / 4096) !== Math.floor((p.needleAddr + NEEDLE.length - 1) / 4096), 'the needle straddles a page boundary');
    assert.ok(Number.parseInt(m.mapping.start, 16) <= p.needleAddr && p.needleAddr < Number.parseInt(m.mapping.end, 16));
    assert.match(m.context.text, new RegExp(`a+${NEEDLE}a+`));
    // the text output names the process and address too
    const text = await cli(['mem', d1, '--pid', String(p.pid), '--search', NEEDLE]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, new RegExp(`^${p.pid}  0x${p.needleAddr.toString(16)}  `, 'm'));
    // a regex finds it as well
    const re = await cli(['mem', d1, '--pid', String(p.pid), '--regex', 'CRYO-PLANTED-[0-9a-f]{6}-NEEDLE', '--json']);
    assert.equal(re.status, 0, re.stderr);
    assert.ok(JSON.parse(re.stdout).matches.some((x: { address: string }) => Number.parseInt(x.address, 16) === p.needleAddr));
  });

  it('cryo mem --search finds a string in shared anonymous memory, in both processes', async (t) => {
    if (!(await setup(t))) return;
    const p = planted!;
    const r = await cli(['mem', d1, '--search', `SHARED-${NEEDLE}`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const hits = JSON.parse(r.stdout).matches.map((m: { pid: number; address: string; mapping: { name: string } }) => [m.pid, Number.parseInt(m.address, 16), m.mapping.name]);
    assert.deepEqual(hits, [[p.pid, p.shared, '[shared memory]'], [p.childPid, p.shared, '[shared memory]']]);
    const out = join(work, 'shared.bin');
    const d = await cli(['mem', d1, '--pid', String(p.childPid), '--dump', `${p.shared.toString(16)}+${NEEDLE.length + 9}`, '-o', out]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(readFileSync(out, 'latin1'), `SHARED-${NEEDLE}ss`);
  });

  it('cryo mem --search exits 1 when nothing matches', async (t) => {
    if (!(await setup(t))) return;
    const r = await cli(['mem', d1, '--pid', String(planted!.pid), '--search', 'THIS-IS-NOT-IN-MEMORY-' + 'Q'.repeat(7)]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
  });

  it('cryo mem --dump writes the raw bytes of the range', async (t) => {
    if (!(await setup(t))) return;
    const p = planted!;
    const out = join(work, 'range.bin');
    const r = await cli(['mem', d1, '--pid', String(p.pid), '--dump', `0x${(p.needleAddr - 8).toString(16)}+${NEEDLE.length + 16}`, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(out, 'latin1'), `aaaaaaaa${NEEDLE}aaaaaaaa`);
    // the region the program filled with 1s
    const reg = join(work, 'region.bin');
    const r2 = await cli(['mem', d1, '--pid', String(p.pid), '--dump', `${p.region.toString(16)}+${64 * 4096}`, '-o', reg]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(readFileSync(reg).equals(Buffer.alloc(64 * 4096, 1)));
  });

  it('cryo diff reports exactly the pages changed between two dumps', async (t) => {
    if (!(await setup(t))) return;
    const p = planted!;
    const r = await cli(['diff', d1, d2, '--json']);
    assert.equal(r.status, 1, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(d.processesAdded, []);
    assert.deepEqual(d.processesGone, []);
    const parent = d.processes.find((x: { pid: number }) => x.pid === p.pid);
    const inRegion = parent.memory.flatMap((m: { pages: string[] }) => m.pages).map((a: string) => Number.parseInt(a, 16))
      .filter((a: number) => a >= p.region && a < p.region + 64 * 4096);
    assert.deepEqual(inRegion, [p.region + 3 * 4096, p.region + 10 * 4096]);
    // the child did not touch its copy of the region
    const child = d.processes.find((x: { pid: number }) => x.pid === p.childPid);
    const childRegion = child.memory.flatMap((m: { pages: string[] }) => m.pages).map((a: string) => Number.parseInt(a, 16))
      .filter((a: number) => a >= p.region && a < p.region + 64 * 4096);
    assert.deepEqual(childRegion, []);
    const text = await cli(['diff', d1, d2]);
    assert.equal(text.status, 1, 'diff exits 1 when the checkpoints differ');
    assert.match(text.stdout, new RegExp(`process ${p.pid} inspect-plant`));
  });

  it('cryo inspect --json shows the tree, command line, sockets with peers and addresses', async (t) => {
    if (!(await setup(t))) return;
    const p = planted!;
    const r = await cli(['inspect', d1, '--json', '--env']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    const root = m.processes.find((x: { pid: number }) => x.pid === p.pid);
    assert.deepEqual(root.children, [p.childPid]);
    assert.equal(root.cmdline[1], NEEDLE);
    assert.ok(Array.isArray(root.environ) && root.environ.length > 0);
    assert.equal(root.cwd, work);
    assert.equal(root.creds.uid, 0);
    assert.equal(root.threads, 1);
    assert.deepEqual(root.tasks.map((x: { tid: number }) => x.tid), [p.pid]);
    const unix = root.fds.filter((f: { type: string }) => f.type === 'UNIXSK');
    const [a, b] = [unix.find((f: { fd: number }) => f.fd === 3), unix.find((f: { fd: number }) => f.fd === 4)];
    assert.equal(a.socket.peer, b.socket.ino);
    assert.equal(b.socket.peer, a.socket.ino);
    const tcp = root.fds.find((f: { type: string }) => f.type === 'INETSK');
    assert.equal(tcp.socket.state, 'LISTEN');
    assert.equal(tcp.socket.local, `127.0.0.1:${p.port}`);
    const named = unix.find((f: { fd: number }) => f.fd === 8);
    assert.equal(named.socket.local, join(work, 'plant.sock'));
    const pipes = root.fds.filter((f: { type: string }) => f.type === 'PIPE');
    assert.equal(pipes.length, 2);
    assert.equal(pipes[0].pipe, pipes[1].pipe);
    // the other end of each pipe, in this process and in the child that inherited it
    assert.deepEqual(pipes[0].peers, [{ pid: p.pid, fd: pipes[1].fd }, { pid: p.childPid, fd: pipes[1].fd }]);
    assert.deepEqual(a.peers, [{ pid: p.pid, fd: 4 }, { pid: p.childPid, fd: 4 }]);
    const heap = root.mappings.find((x: { start: string; end: string }) => Number.parseInt(x.start, 16) <= p.needleAddr && p.needleAddr < Number.parseInt(x.end, 16));
    assert.ok(heap.dumpedPages > 0);
    const text = await cli(['inspect', d1, '--pid', String(p.childPid)]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`└── inspect-plant pid ${p.childPid}`));
  });

  it('cryo stats shows the dump statistics', async (t) => {
    if (!(await setup(t))) return;
    const r = await cli(['stats', d1, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.ok(s.dump.pages_written > 0 && s.dump.frozen_time > 0);
    const text = await cli(['stats', d1]);
    assert.match(text.stdout, /frozen time\s+[\d.]+ (µs|ms|s)/);
  });

  it('reads an archive (.ckpt) as it reads a directory', async (t) => {
    if (!(await setup(t))) return;
    const { writeTestArchive } = await import('../helpers/archive.js');
    const archive = join(work, 'd1.ckpt');
    await writeTestArchive(d1, archive);
    for (const args of [['x', '@', 'fds'], ['x', '@', 'mems'], ['inspect', '@', '--json']]) {
      const fromDir = await cli(args.map((a) => (a === '@' ? d1 : a)));
      const fromArchive = await cli(args.map((a) => (a === '@' ? archive : a)));
      assert.equal(fromArchive.status, 0, fromArchive.stderr);
      assert.equal(fromArchive.stdout.replaceAll(archive, d1), fromDir.stdout);
    }
    const m = await cli(['mem', archive, '--pid', String(planted!.pid), '--search', NEEDLE]);
    assert.equal(m.status, 0, m.stderr);
  });

  it('a checkpoint missing an image fails with exit 4, naming the file', async (t) => {
    if (!(await setup(t))) return;
    const broken = join(work, 'broken');
    cpSync(d1, broken, { recursive: true });
    rmSync(join(broken, `mm-${planted!.pid}.img`));
    for (const args of [['x', broken, 'mems'], ['inspect', broken], ['mem', broken, '--search', 'x']]) {
      const r = await cli(args);
      assert.equal(r.status, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`missing mm-${planted!.pid}\\.img`));
    }
  });
});

describe('a tree with a zombie', () => {
  let dir: string | undefined;
  let root: number | undefined;
  after(() => {
    if (root !== undefined) killTree(root);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('views, inspect, search and diff leave the zombie (which has no memory images) out', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    dir = tempDir('cryo-inspect-zombie-');
    // the subshell exits once the shell has become `sleep` (which never reaps it); exiting earlier, bash
    // itself could reap it before the exec. In a subshell $$ is the parent shell's pid.
    const script = 'for i in $(seq 3 255); do eval "exec $i>&-" 2>/dev/null; done; ' +
      '( while [ "$(cat /proc/$$/comm)" != sleep ]; do sleep 0.01; done ) & exec sleep 1000';
    const child = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
    child.unref();
    root = child.pid!;
    const zombie = await waitFor(() => {
      const kids = readFileSync(`/proc/${root}/task/${root}/children`, 'utf8').trim();
      if (!kids) return undefined;
      const pid = Number(kids.split(/\s+/)[0]);
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z') ? pid : undefined;
    }, 'a zombie child');
    const images = join(dir, 'd');
    mkdirSync(images);
    const r = spawnSync(criu.path, ['dump', '-t', String(root), '-D', images, '--leave-running', '-o', 'dump.log'], { stdio: 'ignore' });
    assert.equal(r.status, 0, 'criu dump');
    const ps = await cli(['x', images, 'ps']);
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, new RegExp(`^\\s+${zombie}\\s`, 'm'));
    for (const view of ['fds', 'mems', 'rss']) {
      const v = await cli(['x', images, view]);
      assert.equal(v.status, 0, v.stderr);
      assert.doesNotMatch(v.stdout, new RegExp(`^${zombie}$`, 'm'));
      assert.match(v.stdout, new RegExp(`^${root}$`, 'm'));
    }
    const ins = await cli(['inspect', images, '--json']);
    assert.equal(ins.status, 0, ins.stderr);
    const z = JSON.parse(ins.stdout).processes.find((p: { pid: number }) => p.pid === zombie);
    assert.equal(z.state, 'zombie');
    assert.deepEqual(z.mappings, []);
    const s = await cli(['mem', images, '--search', 'sleep']);
    assert.equal(s.status, 0, s.stderr);
    const d = await cli(['diff', images, images]);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /no differences/);
  });
});

describe('statistics of a dump and a restore', () => {
  let dir: string | undefined;
  let pid: number | undefined;
  after(() => {
    if (pid !== undefined) killTree(pid);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cryo stats shows restore statistics once the checkpoint was restored', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    dir = tempDir('cryo-inspect-stats-');
    const child = spawn('bash', ['-c', 'for i in $(seq 3 255); do eval "exec $i>&-" 2>/dev/null; done; exec sleep 1000'], { detached: true, stdio: 'ignore' });
    child.unref();
    pid = child.pid!;
    await waitFor(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep', 'sleep to start');
    const images = join(dir, 'd');
    mkdirSync(images);
    assert.equal(spawnSync(criu.path, ['dump', '-t', String(pid), '-D', images, '-o', 'dump.log'], { stdio: 'ignore' }).status, 0, 'criu dump');
    // the dumped process lingers as a zombie until init reaps it; its pid must be free to restore
    await waitFor(() => { try { readFileSync(`/proc/${pid}/stat`); return false; } catch { return true; } }, 'the dumped process to be reaped');
    const r = spawnSync(criu.path, ['restore', '-D', images, '-d', '-o', 'restore.log'], { stdio: 'ignore' });
    assert.equal(r.status, 0, 'criu restore');
    const s = await cli(['stats', images, '--json']);
    assert.equal(s.status, 0, s.stderr);
    const stats = JSON.parse(s.stdout);
    assert.ok(stats.dump.pages_written > 0);
    assert.equal(typeof stats.restore.forking_time, 'number');
    assert.equal(typeof stats.restore.restore_time, 'number');
    const text = await cli(['stats', images]);
    assert.match(text.stdout, /^restore$/m);
    assert.match(text.stdout, /restore time\s+[\d.]+ (µs|ms|s)/);
  });
});
