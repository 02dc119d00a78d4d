// The real first error of a failed CRIU run: errno causes (disk full, read-only, ...), seize failures of
// kernel threads and init, other-uid limits. Log lines captured from real CRIU 4.2.1 runs on this kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainFailure } from '../../src/criu/explain.js';

const RLIMIT = "(00.037977) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted";

// a dump into a 2 MiB tmpfs: CRIU's errmsg is the harmless rlimit line, the log the rest
const DISK_FULL = [
  RLIMIT,
  '(00.031657) Error (criu/page-xfer.c:263): page-xfer: Unable to spice data: No space left on device',
  '(00.031673) Error (criu/bfd.c:131): bfd: Error flushing image: No space left on device',
  "(00.031879) Error (criu/mem.c:718): Can't dump page with parasite",
  '(00.032213) Error (criu/cr-dump.c:1975): Dumping FAILED.',
].join('\n');

test('disk full: no space left, never RLIMIT_NOFILE', () => {
  const e = explainFailure({ action: 'dump', log: DISK_FULL, crErrmsg: `${RLIMIT.slice(12)}\n` });
  assert.match(e?.cause ?? '', /no space left/);
  assert.match(e?.cause ?? '', /ENOSPC/);
  assert.doesNotMatch(e?.cause ?? '', /RLIMIT/);
  assert.ok(e?.fix);
});

test('the rlimit errmsg alone is never the cause', () => {
  const e = explainFailure({ action: 'dump', log: '', crErrmsg: `${RLIMIT.slice(12)}\n`, crErrno: 28 });
  assert.equal(e?.cause, 'CRIU failed with ENOSPC');
});

for (const [text, want] of [
  ['Read-only file system', /read-only \(EROFS\)/],
  ['Permission denied', /permission denied \(EACCES\)/],
  ['Too many open files', /EMFILE/],
  ['Cannot allocate memory', /ENOMEM/],
  ['Disk quota exceeded', /EDQUOT/],
] as const) {
  test(`errno cause: ${text}`, () => {
    const e = explainFailure({ action: 'dump', log: [RLIMIT, `(00.1) Error (criu/image.c:1): Unable to open x.img: ${text}`, '(00.2) Error (criu/cr-dump.c:1975): Dumping FAILED.'].join('\n') });
    assert.match(e?.cause ?? '', want);
  });
}

const SEIZE = (pid: number) => [RLIMIT, `(00.032229) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: ${pid} (Operation not permitted)`, `(00.039649) Error (compel/src/lib/infect.c:417): Unable to detach from ${pid}: No such process`].join('\n');

test('a kernel thread is a kernel thread, not traced', () => {
  const e = explainFailure({ action: 'dump', log: SEIZE(2), describeTask: () => ({ kernelThread: true, tracerPid: 0 }) });
  assert.match(e?.cause ?? '', /kernel thread/);
  assert.doesNotMatch(e?.cause ?? '', /traced|debugger/);
});

test('pid 1 is the init, not traced', () => {
  const e = explainFailure({ action: 'dump', log: SEIZE(1), describeTask: () => ({ kernelThread: false, tracerPid: 0, init: true }) });
  assert.match(e?.cause ?? '', /init/);
  assert.doesNotMatch(e?.cause ?? '', /traced|debugger/);
});

test('an untraced task CRIU may not attach to: not called traced', () => {
  const e = explainFailure({ action: 'dump', log: SEIZE(77), describeTask: () => ({ kernelThread: false, tracerPid: 0 }) });
  assert.doesNotMatch(e?.cause ?? '', /traced by/);
  assert.match(e?.fix ?? '', /cryo check/);
});

test('a traced task names its tracer', () => {
  const e = explainFailure({ action: 'dump', log: SEIZE(77), describeTask: () => ({ kernelThread: false, tracerPid: 4242 }) });
  assert.match(e?.cause ?? '', /traced by pid 4242/);
});

test('another uid without CAP_SYS_RESOURCE: the capability is named', () => {
  const e = explainFailure({ action: 'dump', log: [RLIMIT, "(00.042329) Error (criu/cr-dump.c:389): Can't get rlimit 0: Operation not permitted", '(00.042331) Error (criu/cr-dump.c:1584): Dump core (pid: 2583) failed with -1'].join('\n') });
  assert.match(e?.cause ?? '', /another user/);
  assert.match(e?.cause ?? '', /CAP_SYS_RESOURCE/);
});

test('nested namespaces: the dump names the kind and a command that works', () => {
  const e = explainFailure({ action: 'dump', log: [RLIMIT, "(00.033384) Error (criu/namespaces.c:460): Can't dump nested ipc namespace for 6283", "(00.033389) Error (criu/namespaces.c:714): Can't make ipcns id"].join('\n') });
  assert.match(e?.cause ?? '', /6283.*ipc namespace of its own/);
  assert.match(e?.fix ?? '', /cryo run --ipc -- CMD/);
  const r = explainFailure({ action: 'restore', log: [RLIMIT, "(00.033745) Error (criu/pstree.c:969): Can't restore sub-task in NS (cflags 20000)"].join('\n') });
  assert.match(r?.cause ?? '', /cannot restore/);
});

test('an nsfs bind mount in the tree mount namespace, and a mount namespace restored without a root', () => {
  const d = explainFailure({ action: 'dump', log: [RLIMIT, "(00.05) Error (criu/mount.c:1084): mnt: 69:./run/netns/cryo-mb-c711df doesn't have a proper root mount"].join('\n') });
  assert.match(d?.cause ?? '', /\/run\/netns\/cryo-mb-c711df/);
  const r = explainFailure({ action: 'restore', log: [RLIMIT, '(00.068702)      1: Error (criu/mount.c:48): mnt: BUG at criu/mount.c:48', '(00.072477) Error (criu/cr-restore.c:1269): 1038 killed by signal 11: Segmentation fault'].join('\n') });
  assert.deepEqual(r?.options, ['--root', '/']);
});
