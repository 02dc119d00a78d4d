// Installs the real parts the tests drive besides CRIU and crit (which `cryo setup --crit`
// provisions): Debian's chromium (report tests), docker-registry with apache2-utils' htpasswd (registry tests, bcrypt) and zsh
// (completion tests). Only what is missing, only as root; without root the tests that need them
// skip with a reason (and fail in CI).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const tools = {
  'apache2-utils': '/usr/bin/htpasswd', chromium: '/usr/bin/chromium', 'docker-registry': '/usr/bin/docker-registry', zsh: '/usr/bin/zsh',
  // a traced tree (preflight) and the network namespaces of the migration and portable tests
  strace: '/usr/bin/strace', iproute2: '/usr/sbin/ip',
};
const has = (p) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const missing = Object.entries(tools).filter(([, p]) => !has(p)).map(([pkg]) => pkg);
if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0) {
  console.warn(`test-tools: not root, not installing ${missing.join(', ')}; the tests that need them skip`);
  process.exit(0);
}
console.log(`test-tools: installing ${missing.join(', ')} from the machine's Debian sources`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env }).status === 0;
if (!run(['install', '-y', '--no-install-recommends', ...missing])) {
  // the package lists may be missing or stale on a fresh machine
  if (!run(['update']) || !run(['install', '-y', '--no-install-recommends', ...missing])) {
    console.error(`test-tools: could not install ${missing.join(', ')}`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
}
