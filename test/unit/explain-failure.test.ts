// explainFailure on log excerpts captured from real failing CRIU 4.2.1 runs on this project's kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainFailure, stripLogPrefix } from '../../src/criu/explain.js';

const RLIMIT = "(00.037977) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted";

const log = (...lines: string[]) => [RLIMIT, ...lines].join('\n') + '\n';

test('established TCP connection: --tcp-established, never the rlimit line', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      '(00.044269) Error (criu/sk-inet.c:200): inet: Connected TCP socket, consider using --tcp-established option.',
      '(00.044285) Error (criu/cr-dump.c:1545): Dump files (pid: 6232) failed with -1',
      '(00.044555) Error (criu/cr-dump.c:1975): Dumping FAILED.',
    ),
  });
  assert.equal(e?.cause, 'the tree has an established TCP connection');
  assert.deepEqual(e?.options, ['--tcp-established']);
  assert.doesNotMatch(e?.cause ?? '', /RLIMIT/);
});

test('--tcp-established without iptables: switch the network-lock backend', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      '(00.028851) Error (criu/util.c:657): exited, status=127',
      '(00.028864) Error (criu/netfilter.c:105): Iptables configuration failed',
      '(00.028867) Error (criu/sk-tcp.c:81): tcp: Failed to lock TCP connection 2759',
      '(00.029279) Error (criu/cr-dump.c:1975): Dumping FAILED.',
    ),
  });
  assert.deepEqual(e?.options, ['--network-lock', 'nftables']);
  assert.match(e?.cause ?? '', /iptables/);
  // a tree with its own network namespace locks the whole namespace: the same missing backend
  const ns = explainFailure({
    action: 'dump',
    log: log(
      'Error (criu/util.c:642): execvp("iptables-restore", ...) failed: No such file or directory',
      '(00.040923) Error (criu/util.c:657): exited, status=1',
      '(00.041494) Error (criu/net.c:3436): net: Locking network failed: iptables-restore returned -1. This may be connected to disabled CONFIG_NETFILTER_XT_MARK kernel build config option.',
    ),
  });
  assert.deepEqual(ns?.options, ['--network-lock', 'nftables']);
});

test('unix stream socket to an outside server: --external unix[ino of the tree socket], not CRIU hint', () => {
  const runaway = log(
    '(00.047524) unix: \tDumping extern: ino 14136 peer_ino 12665 family    1 type    1 state  1 name /tmp/pf/us.sock',
    '(00.047533) unix: \tRunaway socket: ino 14136 peer_ino 12665 family    1 type    1 state  1 name /tmp/pf/us.sock',
    '(00.047535) Error (criu/sk-unix.c:874): unix: External socket is used. Consider using --ext-unix-sk option.',
    '(00.047648) Error (criu/cr-dump.c:1975): Dumping FAILED.',
  );
  const e = explainFailure({ action: 'dump', log: runaway });
  assert.deepEqual(e?.options, ['--external', 'unix[12665]']);
  assert.match(e?.cause ?? '', /unix stream socket.*12665.*\/tmp\/pf\/us\.sock/);
  // with --ext-unix-sk (CRIU's own hint), it still fails; the explanation stays the same
  const half = log(
    '(00.050624) unix: \tExt stream not supported: ino 14136 peer_ino 12665 family    1 type    1 state  1 name /tmp/pf/us.sock',
    "(00.050649) Error (criu/sk-unix.c:881): unix: Can't dump half of stream unix connection. name: (null); peer name: /tmp/pf/us.sock",
  );
  assert.deepEqual(explainFailure({ action: 'dump', log: half })?.options, ['--external', 'unix[12665]']);
});

test('unix datagram socket to an outside socket: --ext-unix-sk', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      '(00.046416) unix: \tDumping extern: ino 29393 peer_ino 0 family    1 type    2 state  1 name /tmp/pf/dg.sock',
      '(00.046420) unix: \tDumped extern: id 0x9 ino 29393 peer 0 type 2 state 10 name 16 bytes',
      '(00.046424) Error (criu/sk-unix.c:874): unix: External socket is used. Consider using --ext-unix-sk option.',
    ),
  });
  assert.deepEqual(e?.options, ['--ext-unix-sk']);
  assert.match(e?.cause ?? '', /datagram.*\/tmp\/pf\/dg\.sock/);
});

test('file lock: --file-locks', () => {
  const e = explainFailure({
    action: 'dump',
    log: log('(00.033959) Error (criu/file-lock.c:110): Some file locks are hold by dumping tasks! You can try --file-locks to dump them.'),
  });
  assert.deepEqual(e?.options, ['--file-locks']);
  assert.match(e?.cause ?? '', /file lock/);
});

test('big deleted file: --ghost-limit above its size', () => {
  const e = explainFailure({
    action: 'dump',
    log: log("(00.030374) Error (criu/files-reg.c:1031): Can't dump ghost file /tmp/pf/del2 of 3002368 size, increase limit"),
  });
  assert.equal(e?.options?.[0], '--ghost-limit');
  assert.ok(Number(e?.options?.[1]) > 3002368);
  assert.match(e?.cause ?? '', /\/tmp\/pf\/del2/);
});

test('open file under a removed name with another link: --link-remap', () => {
  const e = explainFailure({
    action: 'dump',
    log: log("(00.041606) Error (criu/files-reg.c:1122): Can't create link remap for /tmp/pf/hl. Use link-remap option."),
  });
  assert.deepEqual(e?.options, ['--link-remap']);
  assert.match(e?.cause ?? '', /\/tmp\/pf\/hl/);
});

test('io_uring: a blocker, no option', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      'pie: 7107: Error (criu/pie/parasite.c:588): send_fds failed (-22)',
      "(00.040768) Error (criu/parasite-syscall.c:280): Can't retrieve FDs from socket",
      '(00.040776) Error (compel/src/lib/infect-rpc.c:44): Message reply from daemon is trimmed (12/0)',
    ),
  });
  assert.match(e?.cause ?? '', /io_uring/);
  assert.equal(e?.options, undefined);
});

test('traced task: names the pid and the tracer', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      '(00.024785) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 7132 (Operation not permitted)',
      '(00.024802) Error (compel/src/lib/infect.c:417): Unable to detach from 7132: No such process',
      '(00.024808) Error (criu/cr-dump.c:1975): Dumping FAILED.',
    ),
  });
  assert.match(e?.cause ?? '', /task 7132 is traced/);
  assert.equal(e?.options, undefined);
});

test('missing pid', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      '(00.028297) Warn  (criu/seize.c:63): Failed to open /proc/999999/comm: No such file or directory',
      '(00.028927) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 999999 (No such process)',
      '(00.028950) Error (compel/src/lib/infect.c:417): Unable to detach from 999999: No such process',
    ),
  });
  assert.match(e?.cause ?? '', /999999 does not exist/);
});

test('terminal: --shell-job, on dump and on restore', () => {
  const line = '(00.035983) Error (criu/tty.c:410): tty: Found slave peer index 0 without correspond master peer';
  for (const action of ['dump', 'restore'] as const) {
    const e = explainFailure({ action, log: log(line) });
    assert.deepEqual(e?.options, ['--shell-job']);
    assert.match(e?.cause ?? '', /\/dev\/pts\/0/);
  }
});

test('root not a session leader: --shell-job', () => {
  const e = explainFailure({
    action: 'dump',
    log: log('(00.040059) Error (criu/pstree.c:304): The root process 10389 is not a session leader. Consider using --shell-job option'),
  });
  assert.deepEqual(e?.options, ['--shell-job']);
  assert.match(e?.cause ?? '', /10389/);
});

test('namespaces: session leader outside the pid ns, not the ns init, foreign mount; no options promised', () => {
  const sess = explainFailure({ action: 'dump', log: log('(00.047009) Error (criu/cr-dump.c:1528): A session leader of 25572(1) is outside of its pid namespace') });
  assert.match(sess?.fix ?? '', /setsid/);
  assert.equal(sess?.options, undefined);
  const init = explainFailure({
    action: 'dump',
    log: log(
      '(00.048078) Error (criu/pstree.c:304): The root process 2 is not a session leader. Consider using --shell-job option',
      "(00.050834) Error (criu/namespaces.c:1117): Can't dump a pid namespace without the process init",
    ),
  });
  // a shell job outside any pid namespace: --shell-job; inside its own pid namespace as pid 2: not the init
  assert.deepEqual(init?.options, ['--shell-job']);
  const nested = explainFailure({
    action: 'dump',
    log: log(
      '(00.035875) Will take pid namespace in the image',
      '(00.048078) Error (criu/pstree.c:304): The root process 2 is not a session leader. Consider using --shell-job option',
    ),
  });
  assert.match(nested?.cause ?? '', /not its init/);
  assert.equal(nested?.options, undefined);
  const only = explainFailure({ action: 'dump', log: log("(00.050834) Error (criu/namespaces.c:1117): Can't dump a pid namespace without the process init") });
  assert.match(only?.cause ?? '', /not its init/);
  const mnt = explainFailure({ action: 'dump', log: log("(00.044750) Error (criu/files-reg.c:1790): Can't lookup mount=24 for fd=0 path=/dev/null") });
  assert.match(mnt?.cause ?? '', /fd 0 \(\/dev\/null\).*outside the process's mount namespace/);
  const tmpfs = explainFailure({ action: 'dump', log: log('(10.803035) Error (criu/util.c:657): exited, status=1', "(10.803065) Error (criu/filesystems.c:426): Can't dump tmpfs content") });
  assert.match(tmpfs?.cause ?? '', /tmpfs/);
});

test('SysV shm outside an IPC namespace: a blocker with a change, not an option', () => {
  const e = explainFailure({
    action: 'dump',
    log: log(
      "(00.031319) Error (criu/cr-dump.c:478): Task 7298 with SysVIPC shmem map @7f3df21be000 doesn't live in IPC ns",
      '(00.031321) Error (criu/cr-dump.c:1621): Dump mappings (pid: 7298) failed with -1',
    ),
  });
  assert.match(e?.cause ?? '', /7298.*SysV/);
  assert.match(e?.fix ?? '', /cryo run --ipc -- CMD/);
  assert.equal(e?.options, undefined);
});

test('restore: pid taken, TCP in image, external unix socket, refused reconnect', () => {
  const taken = explainFailure({
    action: 'restore',
    log: log("(00.024048) Error (criu/cr-restore.c:1237): Can't fork for 8272: File exists", '(00.024076) Error (criu/cr-restore.c:2331): Restoring FAILED.'),
  });
  assert.match(taken?.cause ?? '', /pid 8272 is taken/);
  const tcp = explainFailure({
    action: 'restore',
    log: log('(00.035292)   6421: Error (criu/sk-inet.c:912): inet: Connected TCP socket in image', '(00.035306)   6421: Error (criu/files.c:1221): Unable to open fd=3 id=0x9'),
  });
  assert.deepEqual(tcp?.options, ['--tcp-established']);
  const ext = explainFailure({
    action: 'restore',
    log: log('(00.040048)   6464: Error (criu/sk-unix.c:1912): unix: External socket found in image. Consider using the --ext-unix-sk option to allow restoring it.'),
  });
  assert.deepEqual(ext?.options, ['--ext-unix-sk']);
  const refused = explainFailure({
    action: 'restore',
    log: log("(00.026802)   6464: Error (criu/sk-unix.c:1406): unix: Can't connect 12665 socket: Connection refused"),
  });
  assert.match(refused?.cause ?? '', /not listening/);
});

test('restore: a port taken, a file gone (default log level, no timestamps)', () => {
  const port = explainFailure({
    action: 'restore',
    log: [
      " 21513: Error (criu/sk-inet.c:1059): inet: Can't bind inet socket (id 6): Address already in use",
      ' 21513: Error (criu/files.c:1221): Unable to open fd=3 id=0x6',
      'Error (criu/cr-restore.c:2331): Restoring FAILED.',
    ].join('\n'),
  });
  assert.match(port?.cause ?? '', /port .* taken/);
  const gone = explainFailure({
    action: 'restore',
    log: [
      " 21659: Error (criu/files-reg.c:2353): Can't open file tmp/pf/victim on restore: No such file or directory",
      " 21659: Error (criu/files-reg.c:2267): Can't open file tmp/pf/victim: No such file or directory",
    ].join('\n'),
  });
  assert.equal(gone?.cause, 'a file the tree had open (/tmp/pf/victim) does not exist any more');
  assert.equal(stripLogPrefix(" 21513: Error (criu/sk-inet.c:1059): inet: Can't bind"), "inet: Can't bind");
});

test('dump-only rules do not fire on restore logs and vice versa', () => {
  const e = explainFailure({ action: 'restore', log: log('(00.044269) Error (criu/sk-inet.c:200): inet: Connected TCP socket, consider using --tcp-established option.') });
  assert.equal(e?.options, undefined);
  assert.match(e?.cause ?? '', /^CRIU: inet: Connected TCP socket/);
});

test('unknown failure: the first real error line, stripped; rlimit alone explains nothing', () => {
  const e = explainFailure({ action: 'dump', log: log('(00.1) Error (criu/foo.c:1): foo: something odd', '(00.2) Error (criu/cr-dump.c:1975): Dumping FAILED.') });
  assert.equal(e?.cause, 'CRIU: foo: something odd');
  assert.equal(explainFailure({ action: 'dump', log: log('(00.2) Error (criu/cr-dump.c:1975): Dumping FAILED.') }), undefined);
  assert.equal(explainFailure({ action: 'dump', log: '', crErrmsg: 'Dump failed: bad thing' })?.cause, 'CRIU: Dump failed: bad thing');
  assert.equal(explainFailure({ action: 'dump', log: '', crErrno: 3 })?.cause, 'CRIU failed with ESRCH');
  assert.equal(explainFailure({ action: 'dump', log: '' }), undefined);
});

test('stripLogPrefix', () => {
  assert.equal(stripLogPrefix('(00.035292)   6421: Error (criu/sk-inet.c:912): inet: x'), 'inet: x');
  assert.equal(stripLogPrefix('pie: 7107: Error (criu/pie/parasite.c:588): send_fds failed (-22)'), 'send_fds failed (-22)');
});
