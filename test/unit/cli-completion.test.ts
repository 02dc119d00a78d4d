// `cryo completion bash|zsh`: the scripts are generated from the program; bash's is sourced in a real
// bash and asked for completions, zsh's is parsed by zsh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { commandLoaders } from '../../src/cli/commands/index.js';

const main = join(import.meta.dirname, '../../src/cli/main.js');
let tmp: string;
let bashScript: string;

function cryo(args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'cryo-unit-completion-'));
  mkdirSync(join(tmp, 'ckpt-a'));
  writeFileSync(join(tmp, 'app.ckpt'), '');
  const r = cryo(['completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  bashScript = join(tmp, 'cryo.bash');
  writeFileSync(bashScript, r.stdout);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** What bash's completion function offers for the words (the last one is being completed). */
function complete(...words: string[]): string[] {
  const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `source '${bashScript}'\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; COMPREPLY=()\n_cryo\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: commands, options and their values complete from the program', () => {
  assert.deepEqual(complete('cryo', 'du'), ['dump']);
  assert.deepEqual(complete('cryo', 'dump', '--tcp-e'), ['--tcp-established']);
  assert.deepEqual(complete('cryo', 'dump', '--tcp').sort(), ['--tcp-close', '--tcp-established']);
  assert.deepEqual(complete('cryo', 'i'), ['info', 'inspect']);
  // every command is offered, completion itself too
  assert.deepEqual(complete('cryo', '').sort(), [...Object.keys(commandLoaders), 'help'].sort());
  assert.deepEqual(complete('cryo', '--de'), ['--debug']);
  assert.deepEqual(complete('cryo', '--criu', '/usr/bin', 'x', '.', 'm'), ['mems']);
  assert.deepEqual(complete('cryo', 'x', '-p', '3', '.', 'ps').sort(), ['ps']);
  assert.deepEqual(complete('cryo', 'completion', ''), ['bash', 'zsh']);
  assert.deepEqual(complete('cryo', 'help', 'de'), ['decode']);
  assert.ok(complete('cryo', 'restore', '--').includes('--tcp-established'));
  // a value that is not a path offers nothing (not the file list)
  assert.deepEqual(complete('cryo', 'mem', `${tmp}/`, '--search', ''), []);
});

test('bash: path arguments and path options complete files', () => {
  const files = [join(tmp, 'app.ckpt'), join(tmp, 'ckpt-a')];
  assert.deepEqual(complete('cryo', 'inspect', `${tmp}/`).filter((f) => !f.endsWith('.bash')).sort(), files);
  assert.deepEqual(complete('cryo', 'dump', '12', '-D', `${tmp}/ck`), [join(tmp, 'ckpt-a')]);
  assert.deepEqual(complete('cryo', 'diff', `${tmp}/ckpt-a`, `${tmp}/app`), [join(tmp, 'app.ckpt')]);
  assert.deepEqual(complete('cryo', '--criu', `${tmp}/app`), [join(tmp, 'app.ckpt')]);
  // x's second argument is a view, not a path
  assert.deepEqual(complete('cryo', 'x', `${tmp}/ckpt-a`, ''), ['ps', 'fds', 'mems', 'rss']);
});

test('zsh: the script parses (zsh -n) and names every command', (t) => {
  const has = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
  if (has.error) {
    t.skip('zsh is not installed (apt-get install zsh)');
    return;
  }
  const r = cryo(['completion', 'zsh']);
  assert.equal(r.code, 0, r.stderr);
  const file = join(tmp, '_cryo');
  writeFileSync(file, r.stdout);
  const n = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
  assert.equal(n.status, 0, n.stderr);
  for (const name of Object.keys(commandLoaders)) assert.match(r.stdout, new RegExp(`\\n    \\(${name}\\)\\n`));
  assert.match(r.stdout, /'\*--tcp-established\[/);
  assert.match(r.stdout, /'\*-D\+\[[^\]]*\]:dir:_files'/);
  // loaded for real in an interactive-like zsh with compinit: compdef registers the function
  const load = spawnSync('zsh', ['-f', '-c', `autoload -Uz compinit && compinit -u -D && source ${file} && print -r -- \${_comps[cryo]}`], { encoding: 'utf8', env: { ...process.env, HOME: tmp } });
  assert.equal(load.status, 0, load.stderr);
  assert.equal(load.stdout.trim(), '_cryo');
});

/** What an interactive zsh (in a pty, zsh/zpty) shows after typing `line` and TAB, with the script loaded. */
function zshComplete(script: string, line: string): string {
  const driver = [
    'zmodload zsh/zpty',
    "zpty z 'TERM=dumb zsh -f -i'",
    `zpty -w z 'PS1="%% "; autoload -Uz compinit; compinit -u -D; source ${script}; print READY$((40+2))'`,
    // bounded polls, not fixed sleeps: a loaded machine answers late
    'all=',
    // the echo of the line holds READY$((40+2)); only its output holds READY42, then the prompt
    'for i in {1..400}; do if zpty -r -t z l; then all+=$l; [[ $all == *READY42*%\\ * ]] && break; else sleep 0.05; fi; done',
    `zpty -w -n z ${JSON.stringify(line)}$'\\t'`,
    // everything zsh draws, until it has been quiet for half a second
    // (the prompt "% " was read while waiting for READY42)
    "all='% '; got=0; quiet=0",
    'for i in {1..400}; do if zpty -r -t z l; then all+=$l; got=1; quiet=0; else sleep 0.05; (( got )) && (( ++quiet >= 10 )) && break; fi; done',
    'print -r -- "$all"',
    'zpty -d z',
  ].join('\n');
  const r = spawnSync('zsh', ['-f', '-c', driver], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HOME: tmp } });
  assert.equal(r.status, 0, r.stderr);
  // drop colour and cursor sequences, bells and carriage returns
  return r.stdout.replace(/\x1b\[[?0-9;]*[a-zA-Z]/g, '').replace(/[\x07\r]/g, '');
}

test('zsh: an interactive zsh completes commands, options and choices with the script', (t) => {
  if (spawnSync('zsh', ['--version']).error) return t.skip('zsh is not installed (apt-get install zsh)');
  const file = join(tmp, '_cryo_interactive');
  writeFileSync(file, cryo(['completion', 'zsh']).stdout);
  assert.match(zshComplete(file, 'cryo du'), /% cryo dump \n?$/);
  assert.match(zshComplete(file, 'cryo dump --tcp'), /--tcp-established +-- checkpoint established TCP connections/);
  assert.match(zshComplete(file, `cryo x ${tmp} m`), /% cryo x \S+ mems \n?$/);
  assert.match(zshComplete(file, 'cryo completion b'), /% cryo completion bash \n?$/);
});

