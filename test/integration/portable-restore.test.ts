// Portable checkpoints against real CRIU, restored on "another machine": fresh mount, UTS and network
// namespaces where /tmp and /var/tmp are empty tmpfs mounts and the hostname differs (entered with
// unshare, as DESIGN.md says; everything there ends with the restored tree, killed by pid). A python
// tree with its cwd, a log, an SQLite database and an mmap'ed data file in a project dir under /tmp:
// dumped with --portable it comes back there and goes on logging and answering; dumped without, the
// restore is refused before CRIU runs, naming each missing file, and `check -i` says the same; a
// doctored cpuinfo.img (a CPU feature this machine lacks) is a blocker for check -i and restore.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readArchiveMeta } from '../../src/checkpoint/archive-read.js';
import { readImage } from '../../src/images/read-image.js';
import { encodeImage } from '../../src/images/image-encode.js';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { alive, cli, cliPath, killTree, lines, repoRoot, sleep, waitFor } from '../helpers/trees.js';

// Logs a tick every 100 ms into app.log, counts in SQLite, mirrors the count into an mmap'ed file,
// and answers a query file. SQLite refuses writes to a database whose inode changed (a restore
// elsewhere recreates the file): the app reopens its connection then, as docs/portable.md says.
const APP = `
import mmap, os, sqlite3, sys, time
os.chdir(sys.argv[1])
log = open('app.log', 'a', buffering=1)
if not os.path.exists('data.bin'):
    with open('data.bin', 'wb') as f: f.write(b'DATA' * 1024)
df = open('data.bin', 'r+b')
mm = mmap.mmap(df.fileno(), 4096)
db = sqlite3.connect('app.db', isolation_level=None)
db.execute('create table if not exists t (n integer)')
n = 0
def insert(v):
    global db
    try:
        db.execute('insert into t values (?)', (v,))
    except sqlite3.OperationalError:
        db.close(); db = sqlite3.connect('app.db', isolation_level=None); db.execute('insert into t values (?)', (v,))
while True:
    n += 1
    insert(n)
    mm[0:8] = b'%08d' % n
    if os.path.exists('ask'):
        os.rename('ask', 'ask.taken')
        rows = db.execute('select count(*), max(n) from t').fetchone()
        with open('answer.tmp', 'w') as a: a.write('%d %d %s %s\\n' % (rows[0], rows[1], mm[0:8].decode(), os.uname().nodename))
        os.rename('answer.tmp', 'answer')
    log.write('tick %d\\n' % n)
    time.sleep(0.1)
`;

const ELSEWHERE = 'cryo-elsewhere';

/** Runs `cryo ARGS` on "another machine": new mount/UTS/net namespaces, empty /tmp and /var/tmp, another hostname. */
function elsewhere(args: string[], view: string): { status: number | null; stdout: string; stderr: string } {
  // cryo itself is installed there too: a clone under /tmp or /var/tmp (as CI's may be) is put back at
  // its own path, through `view` (a directory outside both), once the empty tmpfs mounts are in place
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  const underTmp = /^\/(var\/)?tmp\//.test(repoRoot);
  const keep = underTmp ? `mkdir -p ${q(view)} && mount --bind ${q(repoRoot)} ${q(view)} && ` : '';
  const back = underTmp ? ` && mkdir -p ${q(repoRoot)} && mount --bind ${q(view)} ${q(repoRoot)} && umount ${q(view)}` : '';
  const setup = `${keep}mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp${back} && hostname ${ELSEWHERE} && ip link set lo up && exec "$@"`;
  const r = spawnSync('unshare', ['--mount', '--uts', '--net', '--propagation', 'private', 'sh', '-c', setup, 'sh', process.execPath, cliPath, ...args], {
    encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** iproute2's ip (it brings the new network namespace's loopback up). */
function hasIp(): boolean {
  return ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some((p) => existsSync(p));
}

function python(): string | undefined {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import sqlite3, mmap'], { stdio: 'ignore' });
    if (r.status === 0) return p;
  }
  return undefined;
}

/** A capability bit (word 9: CPUID 7 EBX, Linux's names) the image's CPU lacks, set in a copy of its cpuinfo.img. */
function doctorCpuinfo(dir: string): string {
  const names: Record<number, string> = { 26: 'avx512pf', 27: 'avx512er', 14: 'mpx', 21: 'avx512ifma', 16: 'avx512f', 29: 'sha_ni', 5: 'avx2' };
  const path = join(dir, 'cpuinfo.img');
  const img = readImage(path);
  const x86 = (img.entries[0] as { x86_entry: Array<{ capability: number[] }> }).x86_entry[0]!;
  const word = Number(x86.capability[9] ?? 0);
  const bit = Object.keys(names).map(Number).find((b) => !(word & (1 << b)));
  assert.ok(bit !== undefined, 'this CPU has every feature the test could claim');
  x86.capability[9] = (word | (1 << bit)) >>> 0;
  rmSync(path);
  const bytes = encodeImage(img);
  writeFileSync(path, bytes, { flag: 'wx', mode: 0o600 });
  // the doctored image is the checkpoint's own now: its description says so (size and sha256), as a
  // dump on a machine with that CPU would have written it; otherwise the copy is merely damaged (exit 4)
  const metaPath = join(dir, 'cryo.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { files: Array<{ name: string; size: number; sha256?: string }>; totalBytes: number };
  const f = meta.files.find((x) => x.name === 'cpuinfo.img')!;
  meta.totalBytes += bytes.length - f.size;
  f.size = bytes.length;
  if (f.sha256 !== undefined) f.sha256 = createHash('sha256').update(bytes).digest('hex');
  rmSync(metaPath);
  writeFileSync(metaPath, JSON.stringify(meta), { flag: 'wx', mode: 0o600 });
  return names[bit]!;
}

test('a portable checkpoint restores on another machine; without --portable the restore and check -i name each missing file', { timeout: 180_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const py = python();
  if (!requireOrSkip(t, py !== undefined, 'no python3 with sqlite3 and mmap')) return;
  if (!requireOrSkip(t, spawnSync('unshare', ['--version']).status === 0 && hasIp(), 'unshare or ip is missing')) return;

  const base = mkdtempSync('/tmp/cryo-portable-');
  // checkpoints live outside /tmp and /var/tmp: "another machine" has them empty
  const out = mkdtempSync(join(homedir(), '.cryo-portable-test-'));
  const proj = join(base, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'app.py'), APP);
  const ended: number[] = [];
  t.after(() => {
    for (const p of ended) if (alive(p)) killTree(p);
    rmSync(base, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  const started = await cli(['run', '--json', '--', py!, join(proj, 'app.py'), proj]);
  assert.equal(started.status, 0, started.stderr);
  const tree = JSON.parse(started.stdout) as { pid: number; rootPid: number };
  ended.push(tree.rootPid);
  await waitFor(() => lines(join(proj, 'app.log')).length >= 3, 'the app to log');

  // without --portable: the tree keeps running for the portable dump that follows. SQLite holds a
  // POSIX lock on the database while it writes: a dump that lands mid-write needs --file-locks
  const plain = join(out, 'plain');
  const d1 = await cli(['dump', String(tree.pid), '-D', plain, '--leave-running', '--file-locks', '--json']);
  assert.equal(d1.status, 0, d1.stderr);
  const archive = join(out, 'app.ckpt');
  const d2 = await cli(['dump', String(tree.pid), '-o', archive, '--portable', '--file-locks', '--json']);
  assert.equal(d2.status, 0, d2.stderr);
  const dumpedTicks = lines(join(proj, 'app.log')).length;

  const meta = await readArchiveMeta(archive);
  const deps = new Map((meta.dependencies ?? []).map((d) => [d.path, d]));
  const wanted = ['app.log', 'app.db', 'data.bin'].map((f) => join(proj, f));
  for (const p of [...wanted, proj]) assert.equal(deps.get(p)?.included, true, `${p} is carried: ${JSON.stringify(deps.get(p))}`);
  assert.deepEqual(deps.get(join(proj, 'data.bin'))?.uses, ['fd', 'map']);
  assert.ok(deps.get(proj)!.uses.includes('cwd'));
  const libc = [...deps.values()].find((d) => /\/libc\.so\.6$/.test(d.path));
  assert.ok(libc && libc.system && !libc.included && libc.buildId, `libc is a system dependency with a build-id: ${JSON.stringify(libc)}`);
  assert.ok(meta.files.some((f) => f.name === 'cryo-files.tar') && meta.files.some((f) => f.name === 'cpuinfo.img'));

  // without --portable, elsewhere: refused before CRIU runs, each missing file on a line of its own
  const refused = elsewhere(['restore', '-D', plain], join(out, 'cryo-view'));
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /refused before CRIU ran/);
  for (const p of [...wanted, proj]) assert.ok(refused.stderr.split('\n').some((l) => l.trim() === `${p} is missing`), `${p} named:\n${refused.stderr}`);
  assert.match(refused.stderr, /hint: dump with --include/);
  assert.doesNotMatch(refused.stderr, /restore failed/, 'CRIU never ran');

  // check -i there reports the same files as blockers
  const check = elsewhere(['check', '-i', plain, '--json'], join(out, 'cryo-view'));
  assert.equal(check.status, 1, check.stderr);
  const report = JSON.parse(check.stdout) as { restorable: boolean; blockers: Array<{ area: string; path?: string }> };
  assert.equal(report.restorable, false);
  assert.deepEqual(report.blockers.filter((b) => b.area === 'files').map((b) => b.path).sort(), [...wanted, proj].sort());

  // a CPU feature the images claim and this machine lacks: a blocker, named, for check -i and restore
  const doctored = join(out, 'doctored');
  cpSync(plain, doctored, { recursive: true });
  const feature = doctorCpuinfo(doctored);
  const cpu = await cli(['check', '-i', doctored, '--json']);
  assert.equal(cpu.status, 1, cpu.stderr);
  const cpuBlocker = (JSON.parse(cpu.stdout) as { blockers: Array<{ area: string; message: string }> }).blockers.find((b) => b.area === 'cpu');
  assert.ok(cpuBlocker && cpuBlocker.message.includes(feature), `the cpu blocker names ${feature}: ${cpu.stdout}`);
  const cpuText = await cli(['check', '-i', doctored]);
  assert.equal(cpuText.status, 1);
  assert.match(cpuText.stdout, new RegExp(`cpu: .*${feature}`));
  const cpuRestore = await cli(['restore', '-D', doctored]);
  assert.equal(cpuRestore.status, 1);
  assert.match(cpuRestore.stderr, new RegExp(`refused before CRIU ran: .*${feature}`));

  // with --portable, elsewhere: restored with its files, it goes on logging and answering
  const r = elsewhere(['restore', '-i', archive, '--json'], join(out, 'cryo-view'));
  assert.equal(r.status, 0, r.stderr);
  const restored = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  ended.push(restored.rootPid);
  const there = `/proc/${restored.pid}/root${proj}`;
  await waitFor(() => lines(join(there, 'app.log')).length > dumpedTicks + 3, 'the restored app to go on logging');
  writeFileSync(join(there, 'ask'), '?');
  await waitFor(() => existsSync(join(there, 'answer')), 'an answer from the restored app');
  const [count, max, mapped, host] = readFileSync(join(there, 'answer'), 'utf8').trim().split(' ');
  assert.equal(host, ELSEWHERE);
  assert.ok(Number(max) > dumpedTicks, `the counter went on from memory: ${max} > ${dumpedTicks}`);
  assert.equal(count, max, 'every row written before the dump came back with the database');
  assert.equal(Number(mapped), Number(max), 'the mmap\'ed file came back and is still mapped');
  const log = lines(join(there, 'app.log'));
  assert.deepEqual(log.slice(0, 3), ['tick 1', 'tick 2', 'tick 3'], 'the log came back from the start');
  // the host's own copies are untouched: the restore wrote only inside "another machine"
  assert.ok(!existsSync(join(proj, 'answer')));
  assert.equal(readFileSync(join(there, 'app.log'), 'utf8').includes(`tick ${Number(max)}`), true);

  killTree(restored.rootPid);
  await sleep(100);
});
