// The CLI's habits on real checkpoints and live trees: a `cryo run` tree whose argv holds terminal
// escapes is dumped twice; inspect, x and mem show cryo's init as one line, escape the argv, take the
// host pid `cryo run` printed; diff exits 1 on differences; check --pid exits 0, 5 or 6.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { criuFor, requireOrSkip } from '../helpers/env.js';
import { alive, cli, sleep, startTime, tempDir, Trees, waitFor } from '../helpers/trees.js';

const EVIL = 'evil\x1b[31mred\nline';
const NEEDLE = 'CRYO-HABITS-NEEDLE-5150';

describe('the CLI on a real cryo run tree', () => {
  const trees = new Trees();
  let work: string;
  let pid: number | undefined;
  let d1: string;
  let d2: string;
  let ready: boolean | undefined;

  before(() => {
    work = tempDir('cryo-cli-habits-');
    d1 = join(work, 'd1');
    d2 = join(work, 'd2');
  });
  after(() => {
    trees.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  async function setup(t: TestContext): Promise<boolean> {
    if (ready !== undefined) return ready ? true : (t.skip('setup failed earlier'), false);
    ready = false;
    if (!criuFor(t)) return false;
    // bash keeps its argv; the loop changes its heap between the dumps
    const script = `X=${NEEDLE}; n=0; while :; do n=$((n+1)); sleep 0.05; done`;
    const r = await trees.start('bash', ['-c', script, EVIL]);
    pid = r.pid;
    const dump1 = await cli(['dump', String(pid), '-D', d1, '--leave-running']);
    assert.equal(dump1.status, 0, dump1.stderr);
    await sleep(300);
    const dump2 = await cli(['dump', String(pid), '-D', d2, '--leave-running']);
    assert.equal(dump2.status, 0, dump2.stderr);
    ready = true;
    return true;
  }

  it("inspect: cryo's init as one line, a thread count, the argv escaped; --pid takes the host pid", async (t) => {
    if (!(await setup(t))) return;
    const r = await cli(['inspect', d1]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cryo-init \(namespace init of cryo run\) pid 1 /m);
    assert.doesNotMatch(r.stdout, /trap|CLOSE|exec 1>&3/, "the init's script is not printed");
    assert.match(r.stdout, /threads +1$/m);
    assert.ok(r.stdout.includes(`$'evil\\x1b[31mred\\nline'`), r.stdout);
    assert.doesNotMatch(r.stdout, /\x1b/, 'no raw escape from the checkpoint');
    const j = JSON.parse((await cli(['inspect', d1, '--json'])).stdout);
    const init = j.processes.find((p: { pid: number }) => p.pid === 1);
    assert.equal(init.threads, 1);
    assert.deepEqual(init.tasks, [{ tid: 1, comm: 'bash' }]);
    const cmd = j.processes.find((p: { pid: number; cmdline?: string[] }) => p.pid !== 1 && p.cmdline?.includes(EVIL));
    assert.ok(cmd, 'the JSON keeps the argv as it is');
    // the host pid `cryo run` printed is the command inside the tree
    const byHost = JSON.parse((await cli(['inspect', d1, '--pid', String(pid), '--json'])).stdout);
    assert.deepEqual(byHost.processes.map((p: { pid: number }) => p.pid), [1, cmd.pid]);
    const other = await cli(['inspect', d1, '--pid', '999999']);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /^cryo: error: process 999999 is not in the checkpoint/);
  });

  it('x ps labels the init; x takes --pid as the host pid too', async (t) => {
    if (!(await setup(t))) return;
    const ps = await cli(['x', d1, 'ps']);
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /^ +1 +1 +1 +cryo-init \(namespace init of cryo run\)$/m);
    const sub = await cli(['x', d1, 'ps', '--pid', String(pid)]);
    assert.equal(sub.status, 0, sub.stderr);
    assert.doesNotMatch(sub.stdout, /cryo-init/);
    assert.match(sub.stdout, /^ +2 +2 +2 +bash$/m);
    const fds = await cli(['x', d1, 'fds', '--pid', String(pid)]);
    assert.deepEqual(fds.stdout.split('\n').filter((l) => /^\d+$/.test(l)), ['2']);
  });

  it('mem: the host pid, the match on the head line, raw bytes to stdout', async (t) => {
    if (!(await setup(t))) return;
    const r = await cli(['mem', d1, '--pid', String(pid), '--search', NEEDLE]);
    assert.equal(r.status, 0, r.stderr);
    const head = r.stdout.split('\n')[0]!;
    assert.match(head, new RegExp(`^2  0x([0-9a-f]+)  .*  "${NEEDLE}"$`));
    const addr = /^2  (0x[0-9a-f]+)/.exec(head)![1]!;
    const esc = await cli(['mem', d1, '--pid', String(pid), '--regex', 'evil.{4}']);
    assert.equal(esc.status, 0, esc.stderr);
    assert.match(esc.stdout.split('\n')[0]!, /  "evil\\x1b\[31"$/);
    const bytes = await cli(['mem', d1, '--pid', String(pid), '--dump', `${addr}+${NEEDLE.length}`, '-o', '-']);
    assert.equal(bytes.status, 0, bytes.stderr);
    assert.equal(bytes.stdout, NEEDLE);
  });

  it('diff exits 1 when the checkpoints differ and 0 when they are the same', async (t) => {
    if (!(await setup(t))) return;
    const differ = await cli(['diff', d1, d2]);
    assert.equal(differ.status, 1, differ.stderr);
    assert.doesNotMatch(differ.stdout, /no differences/);
    const json = await cli(['diff', d1, d2, '--json']);
    assert.equal(json.status, 1);
    assert.equal(JSON.parse(json.stdout).same, false);
    const same = await cli(['diff', d1, d1]);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /no differences/);
    const missing = await cli(['diff', d1, join(work, 'nope'), '--json']);
    assert.equal(missing.status, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, 'NOT_FOUND');
  });
});

describe('cryo check --pid exit codes on live trees', () => {
  const trees = new Trees();
  after(() => trees.cleanup());

  it('0 dumpable as it is, 5 with the options it prints (a pasteable dump command), 6 blocked, 1 no such process', async (t) => {
    if (!requireOrSkip(t, process.getuid?.() === 0, 'preflight of other processes needs root')) return;
    const plain = await trees.start('sleep', ['1000']);
    const ok = await cli(['check', '--pid', String(plain.pid)]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^dumpable: /);

    // an established TCP connection inside the tree needs --tcp-established
    const tcp = await trees.start('python3', ['-c', [
      'import socket, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()',
      'c = socket.create_connection(s.getsockname()); a, _ = s.accept()',
      'open("/dev/null")',
      'time.sleep(1000)',
    ].join('\n')]);
    const withOpts = await waitFor(async () => {
      const r = await cli(['check', '--pid', String(tcp.pid)]);
      return r.status === 5 ? r : undefined;
    }, 'the python tree to connect');
    const cmd = withOpts.stdout.split('\n')[1]!.trim();
    assert.equal(cmd, `cryo dump ${tcp.pid} -D ./ckpt --tcp-established`);
    const j = await cli(['check', '--pid', String(tcp.pid), '--json']);
    assert.equal(j.status, 5);
    const report = JSON.parse(j.stdout);
    assert.equal(report.pid, tcp.pid);
    assert.equal(typeof report.rootPid, 'number');
    assert.deepEqual(report.options, ['--tcp-established']);

    // a traced process cannot be dumped
    const traced = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    traced.unref();
    const tracedPid = trees.track(traced.pid!);
    const tracer = spawn('strace', ['-o', '/dev/null', '-p', String(tracedPid)], { stdio: 'ignore' });
    if (!requireOrSkip(t, await new Promise<boolean>((res) => { tracer.once('spawn', () => res(true)); tracer.once('error', () => res(false)); }), 'strace is not installed')) return;
    const tracerPid = trees.track(tracer.pid!);
    try {
      const blocked = await waitFor(async () => {
        const r = await cli(['check', '--pid', String(tracedPid)]);
        return r.status === 6 ? r : undefined;
      }, 'strace to attach');
      assert.match(blocked.stdout, /^not dumpable: /);
      assert.match(blocked.stdout, /traced by pid/);
    } finally {
      if (alive(tracerPid) && startTime(tracerPid)) process.kill(tracerPid, 'SIGKILL');
    }

    const gone = await cli(['check', '--pid', '999999', '--json']);
    assert.equal(gone.status, 1);
    assert.equal(JSON.parse(gone.stdout).error.code, 'NO_PROCESS');
  });
});
