// The render helpers for text from a checkpoint: control characters escaped, argv words pasteable,
// cryo's init as one line; the host-pid lookup of `--pid`; the exit codes of `check --pid`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { CheckpointMeta } from '../../src/checkpoint/meta.js';
import { resolveCheckpointPid } from '../../src/cli/checkpoint-pid.js';
import { dumpCommand, preflightExitCode, preflightJson, renderPreflight } from '../../src/cli/preflight.js';
import { CRYO_INIT_LABEL, isCryoInitArgv, renderCmdline, renderComm } from '../../src/cli/render/cmdline.js';
import { escapeBytes, escapeText, shellCommand, shellWord } from '../../src/cli/render/escape.js';
import { renderFds, renderPs } from '../../src/cli/render/explore.js';
import type { PreflightReport } from '../../src/preflight/types.js';

test('escapeText: control characters become visible escapes, the rest stays', () => {
  assert.equal(escapeText('a\x1b[31mred\nline\ttab\r\x00\x7f\x9b'), 'a\\x1b[31mred\\nline\\ttab\\r\\x00\\x7f\\x9b');
  assert.equal(escapeText('/tmp/été/日本 ok'), '/tmp/été/日本 ok');
  assert.equal(escapeText('rtl\u202eevil\u2028'), 'rtl\\u202eevil\\u2028');
  assert.equal(escapeText('plain'), 'plain');
});

test('escapeBytes: a quoted literal of raw memory', () => {
  assert.equal(escapeBytes(Buffer.from('KEY\x1b[2J"\\\n\xff', 'latin1')), '"KEY\\x1b[2J\\"\\\\\\n\\xff"');
});

test('shellWord: bash reads every word back as the same argv word', () => {
  const words = ['plain', 'with space', "it's", 'unix[123]', '$HOME', 'a\x1b[31mb', 'new\nline', "both ' and \x07", 'back\\slash\n', '', '*'];
  const line = `printf '%s\\0' ${shellCommand(words)}`;
  const r = spawnSync('bash', ['-c', line], { encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words);
  assert.equal(shellWord('./ckpt'), './ckpt');
  // no raw control character reaches the terminal
  assert.doesNotMatch(shellCommand(words), /[\x00-\x1f]/);
});

const init = ['/usr/bin/bash', '-c', 'exec 1>&3 2>&3 3>&-\nfor f in ...', 'cryo-init', '/usr/bin/env', '/usr/bin/sleep', '100'];

test("cryo's init is shown as one short line, other commands as shell words", () => {
  assert.equal(isCryoInitArgv(init), true);
  assert.equal(isCryoInitArgv(['bash', '-c', 'x', 'other']), false);
  assert.equal(isCryoInitArgv(['/usr/bin/python3', '-c', 'x', 'cryo-init']), false);
  assert.equal(renderCmdline(init), CRYO_INIT_LABEL);
  assert.match(CRYO_INIT_LABEL, /^cryo-init \(namespace init of cryo run\)$/);
  assert.equal(renderComm('bash', init), CRYO_INIT_LABEL);
  assert.equal(renderComm('evil\x1b]0;x\x07'), 'evil\\x1b]0;x\\x07');
  assert.equal(renderCmdline(['/bin/sleep', '10 s']), "/bin/sleep '10 s'");
});

test('x views escape names: ps comm, fds paths; ps shows the label it is given', () => {
  const ps = renderPs([{ pid: 1, pgid: 1, sid: 1, comm: 'bash', depth: 0 }, { pid: 2, pgid: 1, sid: 1, comm: 'a\x1bb', depth: 1 }], new Map([[1, CRYO_INIT_LABEL]]));
  assert.match(ps, /   cryo-init \(namespace init of cryo run\)\n/);
  assert.match(ps, / {7}a\\x1bb\n$/);
  assert.equal(renderFds([{ pid: 3, fds: [{ fd: 1, file: '/tmp/a\nb' }] }]), '3\n\t      1: /tmp/a\\nb\n');
});

const meta = { tree: { pid: 4242, rootPid: 4241, pidns: true, nsPid: 2, netns: false, processes: [] } } as unknown as CheckpointMeta;

test('resolveCheckpointPid: the host pid `cryo run` printed maps to its pid inside the tree', () => {
  assert.equal(resolveCheckpointPid(meta, 4242, [1, 2, 5]), 2);
  // a pid of the checkpoint is taken as it is, even when it equals some host pid
  assert.equal(resolveCheckpointPid({ ...meta, tree: { ...meta.tree, pid: 5 } }, 5, [1, 2, 5]), 5);
  assert.equal(resolveCheckpointPid(meta, 77, [1, 2, 5]), 77);
  assert.equal(resolveCheckpointPid(undefined, 4242, [1, 2]), 4242);
  // an nsPid the checkpoint does not hold is not used
  assert.equal(resolveCheckpointPid({ ...meta, tree: { ...meta.tree, nsPid: 9 } }, 4242, [1, 2]), 4242);
});

function report(over: Partial<PreflightReport>): PreflightReport {
  return { pid: 123, rootPid: 123, dumpable: true, options: [], blockers: [], findings: [], processes: [{ pid: 123, ppid: 1, comm: 'app', state: 'S', threads: 1, pgid: 123, sid: 123, tracerPid: 0, fds: 3 }], ...over };
}

test('check --pid: exit 0 as it is, 5 with options, 6 blocked; the dump command pastes as is', () => {
  assert.equal(preflightExitCode(report({})), 0);
  const withOpts = report({ dumpable: false, options: ['--tcp-established', '--external', 'unix[77]'] });
  assert.equal(preflightExitCode(withOpts), 5);
  assert.equal(dumpCommand(withOpts), "cryo dump 123 -D ./ckpt --tcp-established --external 'unix[77]'");
  assert.match(renderPreflight(withOpts), /\n  cryo dump 123 -D \.\/ckpt --tcp-established --external 'unix\[77\]'\n/);
  const blocked = report({ dumpable: false, blockers: [{ pid: 123, kind: 'traced', message: 'traced by pid 9' }], findings: [{ pid: 123, kind: 'traced', message: 'traced by pid 9' }] });
  assert.equal(preflightExitCode(blocked), 6);
  // JSON under the naming table's names
  assert.deepEqual(Object.keys(preflightJson(blocked)), ['pid', 'rootPid', 'dumpable', 'options', 'blockers', 'findings', 'processes']);
  // names from the live tree are escaped in the text
  const evil = report({ processes: [{ ...report({}).processes[0]!, comm: 'x\x1b[2J' }], findings: [{ pid: 123, fd: 4, kind: 'file', message: 'file /tmp/\x1b[2J' }] });
  assert.doesNotMatch(renderPreflight(evil), /\x1b/);
  // a tree `cryo run` started: its root is the namespace init, shown by its label
  const run = report({ rootPid: 122, processes: [{ ...report({}).processes[0]!, pid: 122, comm: 'bash' }], findings: [{ pid: 122, kind: 'pipe', message: 'a pipe' }] });
  assert.match(renderPreflight(run), /\n  122 cryo-init \(namespace init of cryo run\) \(root\)\n/);
});
