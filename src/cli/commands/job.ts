// cryo job --checkpoint-dir DIR [--every D] [--keep N] [--on-signal SIGS] -- CMD ARGS...: the same
// command line starts the job or resumes it from its newest checkpoint (docs/job.md).
import type { Command } from 'commander';
import { constants } from 'node:os';
import { usageError } from '../../errors.js';
import { addRegistryOptions, registryFromCli, type RegistryCliOptions } from '../registry-options.js';

/** "checkpointed, run me again" (sysexits' EX_TEMPFAIL: a temporary failure, retry); --checkpointed-status changes it. */
const CHECKPOINTED_STATUS = 75;

interface JobCliOptions extends RegistryCliOptions {
  checkpointDir: string;
  every?: string;
  keep: string;
  keepDone?: boolean;
  onSignal: string;
  checkpointedStatus: string;
  level?: string;
  cwd?: string;
  env: string[];
  quiet?: boolean;
}

function parseSignals(list: string): NodeJS.Signals[] {
  const out: NodeJS.Signals[] = [];
  for (const raw of list.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean)) {
    const name = (raw.startsWith('SIG') ? raw : `SIG${raw}`) as NodeJS.Signals;
    if (!(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP') throw usageError(`expected --on-signal as signal names (TERM,INT,USR1,...), got '${raw}'`, 'cryo job --on-signal TERM,INT ...');
    out.push(name);
  }
  if (out.length === 0) throw usageError('--on-signal names no signal', 'cryo job --on-signal TERM,INT ...');
  return out;
}

function wholeNumber(v: string, what: string, min: number, max: number, example: string): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw usageError(`expected ${what} from ${min} to ${max}, got '${v}'`, example);
  return Number(v);
}

export function register(program: Command): void {
  const command = program
    .command('job')
    .description('run CMD as a job that survives preemption: restore the newest checkpoint in DIR or start CMD; checkpoint every --every and on a signal')
    .usage('--checkpoint-dir DIR [options] -- CMD [ARGS...]')
    .argument('<cmd>', 'the command to start when DIR holds no checkpoint')
    .argument('[args...]', 'its arguments')
    .requiredOption('--checkpoint-dir <dir>', 'where the checkpoints live: a directory (archives job-TIME.ckpt; created when missing) or oci://HOST/REPO (a tag cryo-SEQ-TIME each)')
    .option('--every <duration>', 'checkpoint the running tree this long after the previous checkpoint ended (30s, 10m, 1h)')
    .option('--keep <n>', 'how many checkpoints to keep, newest first', '2')
    .option('--keep-done', 'keep the checkpoints when CMD exits by itself (default: they are removed)')
    .option('--on-signal <sigs>', 'signals that take a final checkpoint and end the tree', 'TERM,INT')
    .option('--checkpointed-status <n>', 'the exit status that means "checkpointed, run me again"', String(CHECKPOINTED_STATUS))
    .option('--level <n>', 'zstd compression level of the archives 1-19 (default 3)')
    .option('--cwd <dir>', 'working directory of a freshly started command')
    .option('--env <K=V>', 'set an environment variable of a freshly started command (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-q, --quiet', "print only warnings and errors, not each checkpoint");
  addRegistryOptions(command)
    .showHelpAfterError('hint: put the command after --: cryo job --checkpoint-dir DIR -- CMD [ARGS...]')
    .action(async (cmd: string, args: string[], o: JobCliOptions) => {
      const [{ parseDuration }, { parseEnvPair }] = await Promise.all([import('../../job/duration.js'), import('../../criu/options.js')]);
      const oci = o.checkpointDir.startsWith('oci://');
      if (!oci && /^[a-z][a-z0-9+.-]*:\/\//i.test(o.checkpointDir)) throw usageError(`--checkpoint-dir takes a directory or oci://HOST/REPO, not ${o.checkpointDir.split(':')[0]}://`, 'cryo job --checkpoint-dir ./ckpt -- CMD ...');
      if (!oci && (o.creds !== undefined || o.insecure)) throw usageError('--creds and --insecure are for a registry (--checkpoint-dir oci://HOST/REPO)', 'drop them, or pass --checkpoint-dir oci://HOST/REPO');
      let registry;
      if (oci) {
        const { parseRepository } = await import('../../job/store-oci.js');
        parseRepository(o.checkpointDir, o.insecure);
        registry = await registryFromCli(o.checkpointDir, o, undefined);
      }
      const everyMs = o.every === undefined ? undefined : parseDuration(o.every);
      const keep = wholeNumber(o.keep, '--keep', 1, 1000, 'cryo job --keep 2 ...');
      const checkpointedStatus = wholeNumber(o.checkpointedStatus, '--checkpointed-status', 1, 255, 'cryo job --checkpointed-status 75 ...');
      const level = o.level === undefined ? undefined : wholeNumber(o.level, '--level', 1, 19, 'cryo job --level 3 ...');
      const signals = parseSignals(o.onSignal);
      const env = Object.fromEntries(o.env.map(parseEnvPair));
      const [{ startJob }, { humanBytes }, { escapeText }] = await Promise.all([
        import('../../job/job.js'), import('../render/text.js'), import('../render/escape.js'),
      ]);
      const say = (line: string) => process.stderr.write(`cryo: ${escapeText(line)}\n`);
      const ac = new AbortController();
      let got: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        if (got) return;
        got = sig;
        say(`${sig} received: taking a final checkpoint`);
        ac.abort(sig);
      };
      for (const s of signals) process.on(s, onSignal);
      try {
        const job = startJob(cmd, args, {
          checkpointDir: o.checkpointDir, registry, everyMs, keep, keepDone: o.keepDone, level, cwd: o.cwd, env,
          stdout: process.stdout, stderr: process.stderr, signal: ac.signal, criu: program.opts().criu as string | undefined,
        });
        job.on('warning', (w) => say(`warning: ${w.message}${w.hint ? ` (${w.hint})` : ''}`));
        job.on('started', (s) => {
          if (!o.quiet) say(s.restoredFrom ? `restored ${s.restoredFrom} (pid ${s.pid})` : `started ${cmd} (pid ${s.pid})`);
        });
        job.on('restored', (s) => {
          if (s.skipped.length) say(`warning: restored an older checkpoint: ${s.skipped.length} newer one(s) could not be restored`);
        });
        job.on('checkpointed', (c) => {
          if (o.quiet && !c.final) return;
          const frozen = c.frozenMs === null ? '' : `, frozen ${c.frozenMs.toFixed(1)} ms`;
          say(`${c.final ? 'final checkpoint' : 'checkpoint'} ${c.archive} (${humanBytes(c.bytes)}${frozen})`);
        });
        const r = await job.done;
        if (r.outcome === 'checkpointed') {
          say(`checkpointed; run the same command again to resume (exit status ${checkpointedStatus})`);
          process.exitCode = checkpointedStatus;
        } else {
          if (!o.quiet) say(`${cmd} exited with status ${r.status}${r.removed.length ? `; removed ${r.removed.length} checkpoint(s)` : ''}`);
          process.exitCode = r.status;
        }
      } finally {
        for (const s of signals) process.off(s, onSignal);
      }
    });
}
