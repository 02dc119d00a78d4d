import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareVersions } from '../../src/criu/find.js';
import { readDebianSources } from '../../src/criu/provision.js';

function etcWith(files: Record<string, string>): string {
  const etc = mkdtempSync(join(tmpdir(), 'cryo-apt-'));
  mkdirSync(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  return etc;
}

test('deb822 sources: the main archive is kept with its keyring, the security archive and other vendors are not', () => {
  const etc = etcWith({
    'sources.list.d/debian.sources': [
      'Types: deb',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://mirror.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      'URIs: https://vendor.example/apt',
      'Suites: nodistro',
      'Components: main',
      '',
    ].join('\n'),
  });
  try {
    assert.deepEqual(readDebianSources(etc), [
      { uri: 'http://mirror.example/debian', signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
    ]);
  } finally {
    rmSync(etc, { recursive: true });
  }
});

test('one-line sources: options, comments and disabled files', () => {
  const etc = etcWith({
    'sources.list': '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://a.example/debian bookworm main\ndeb-src http://a.example/debian bookworm main\n',
    'sources.list.d/other.list.disabled': 'deb http://b.example/debian bookworm main\n',
    'sources.list.d/dup.list': 'deb http://a.example/debian bookworm-updates main\n',
  });
  try {
    assert.deepEqual(readDebianSources(etc), [{ uri: 'http://a.example/debian', signedBy: '/k.gpg' }]);
  } finally {
    rmSync(etc, { recursive: true });
  }
});

test('no sources at all gives an empty list', () => {
  const etc = etcWith({});
  try {
    assert.deepEqual(readDebianSources(etc), []);
  } finally {
    rmSync(etc, { recursive: true });
  }
});

test('Debian versions compare numerically', () => {
  assert.ok(compareVersions('4.2.1-1', '4.2') > 0);
  assert.ok(compareVersions('4.10', '4.9.3') > 0);
  assert.ok(compareVersions('3.17.1-2', '4.2') < 0);
  assert.equal(compareVersions('4.2', '4.2.0'), 0);
});
