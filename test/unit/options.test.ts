// Option validation and mapping to CRIU's criu_opts: precise messages, CRIU's names, cryo's defaults.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCgroupMode, parseEnvPair, parseLogLevel, parseNetworkLock, parsePid, parseSize } from '../../src/criu/options.js';
import { CryoError } from '../../src/errors.js';

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CryoError);
    assert.equal(e.code, 'USAGE');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, message);
    assert.ok(e.hint, 'a hint');
    return true;
  });
}

test('parsePid accepts positive integers and says what it got otherwise', () => {
  assert.equal(parsePid('42'), 42);
  assert.equal(parsePid(' 7 '), 7);
  assert.equal(parsePid(1), 1);
  usage(() => parsePid('abc'), /^expected a positive integer pid, got 'abc'$/);
  usage(() => parsePid('0'), /got '0'/);
  usage(() => parsePid('-3'), /got '-3'/);
  usage(() => parsePid('12abc'), /got '12abc'/);
  usage(() => parsePid('1.5'), /got '1.5'/);
  usage(() => parsePid('99999999'), /got '99999999'/);
});

test('parseSize reads CRIU size suffixes', () => {
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('1K'), 1024);
  assert.equal(parseSize('2m'), 2 * 1024 * 1024);
  assert.equal(parseSize('3G'), 3 * 1024 ** 3);
  usage(() => parseSize('lots'), /got 'lots'/);
  usage(() => parseSize('1T'), /got '1T'/);
  usage(() => parseSize('4G'), /too large/);
});

test('log level, network lock, cgroup mode, env pairs', () => {
  assert.equal(parseLogLevel('0'), 0);
  assert.equal(parseLogLevel('4'), 4);
  usage(() => parseLogLevel('5'), /from 0 to 4, got '5'/);
  assert.equal(parseNetworkLock('nftables'), 'nftables');
  usage(() => parseNetworkLock('pf'), /got 'pf'/);
  assert.equal(parseCgroupMode(true), true);
  assert.equal(parseCgroupMode('SOFT'), 'soft');
  usage(() => parseCgroupMode('most'), /got 'most'/);
  assert.deepEqual(parseEnvPair('A=b=c'), ['A', 'b=c']);
  assert.deepEqual(parseEnvPair('EMPTY='), ['EMPTY', '']);
  usage(() => parseEnvPair('=x'), /NAME=VALUE, got '=x'/);
  usage(() => parseEnvPair('NOEQ'), /got 'NOEQ'/);
});


