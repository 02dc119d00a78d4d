import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { criuVersion, VERSION_FILE } from '../../src/criu/find.js';
import { provisionCriu } from '../../src/criu/provision.js';
import { criuFor } from '../helpers/env.js';
import { assertCliJson } from '../helpers/schema.js';

const main = join(import.meta.dirname, '../../src/cli/main.js');

test('setup is idempotent: a second run reuses the provisioned CRIU without downloading', (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  if (criu.source !== 'provisioned') return t.skip(`criu comes from ${criu.source}, not provisioned`);
  const r = provisionCriu();
  assert.equal(r.downloaded, false);
  assert.equal(r.criu, criu.path);
  assert.match(r.version, /^4\.\d+/);
  // commands read the version setup recorded instead of running `criu --version` each time; it must agree
  assert.equal(readFileSync(join(dirname(dirname(criu.path)), VERSION_FILE), 'utf8').trim(), criuVersion(criu.path));
  assert.equal(criu.version, criuVersion(criu.path));
});

test('cryo check: CRIU, kernel, root and the network-lock backend; exit 0 when dump and restore can work', (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const r = spawnSync(process.execPath, [main, 'check', '--json'], { encoding: 'utf8' });
  assertCliJson(['check', '--json'], r);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.criu.path, criu.path);
  assert.equal(report.criu.check, 'Looks good.');
  assert.equal(report.root, true);
  assert.equal(typeof report.features.memoryTracking, 'boolean');
  assert.equal(typeof report.features.lazyPages, 'boolean');
  // whatever the machine has, the default backend is one that exists
  if (!report.networkLock.iptables) assert.equal(report.networkLock.default, report.networkLock.nftables ? 'nftables' : 'skip');
  const text = spawnSync(process.execPath, [main, 'check'], { encoding: 'utf8' });
  assert.equal(text.status, 0);
  assert.match(text.stdout, /dump and restore can work here/);
  assert.doesNotMatch(text.stdout, /RLIMIT_NOFILE/);
});
