// CRIU log reading: raw error and warning lines, never the harmless RLIMIT_NOFILE line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstErrors, logMessage, parseCriuLog, readCriuLog } from '../../src/criu/log.js';

const LOG = [
  "(00.000010) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
  '(00.000100) Version: 4.2.1 (gitid 0)',
  '(00.001000) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 4242 (No such process)',
  '(00.002000)      7: Error (criu/files.c:12): Can\'t open file',
  '(00.003000) Error (criu/cr-dump.c:1975): Dumping FAILED.',
  '',
].join('\n');

test('errors and warnings are classified, raw, in log order, without the harmless line', () => {
  const log = parseCriuLog(LOG);
  assert.equal(log.lines.length, 5);
  assert.deepEqual(log.errors, [
    "(00.002000)      7: Error (criu/files.c:12): Can't open file",
    '(00.003000) Error (criu/cr-dump.c:1975): Dumping FAILED.',
  ]);
  assert.deepEqual(log.warnings, ['(00.001000) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 4242 (No such process)']);
});

test('firstErrors limits the count; logMessage strips the prefix', () => {
  assert.deepEqual(firstErrors(LOG, 1), ["(00.002000)      7: Error (criu/files.c:12): Can't open file"]);
  assert.equal(logMessage(firstErrors(LOG, 1)[0]), "Can't open file");
  assert.equal(logMessage('Error (criu/cr-dump.c:1975): Dumping FAILED.'), 'Dumping FAILED.');
  // CRIU's cr_errmsg is a log line with its newline
  assert.equal(
    logMessage('(00.032955) Error (criu/config.c:1131): Tracking memory is not available. Consider omitting --track-mem option.\n'),
    'Tracking memory is not available. Consider omitting --track-mem option.',
  );
});

test('readCriuLog reads a file; a missing file is an empty log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-log-'));
  try {
    writeFileSync(join(dir, 'dump.log'), LOG);
    assert.equal(readCriuLog(join(dir, 'dump.log')).errors.length, 2);
    assert.deepEqual(readCriuLog(join(dir, 'missing.log')), { errors: [], warnings: [], lines: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
