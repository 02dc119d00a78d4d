// cryo mem DIR: search a checkpoint's memory (grep-like: exit 0 found, 1 not) or dump a range.
import type { Command } from 'commander';
import { CryoError, usageError } from '../../errors.js';
import { printJson, useColor, paint } from '../output.js';

function parseIntOption(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw usageError(`${name}: expected a non-negative integer, got "${v}"`, `for example: ${name} 100`);
    return Number(v);
  };
}

/** "7f00dead0000" or "0x7f00dead0000", then optional "+LEN" (decimal, 0x hex, or with k/m/g suffix). */
export function parseRange(spec: string): { addr: number; len?: number } {
  const m = /^(?:0x)?([0-9a-f]+)(?:\+(0x[0-9a-f]+|\d+)([kmg]i?b?)?)?$/i.exec(spec.trim());
  if (!m) throw usageError(`--dump: expected ADDR[+LEN] (hex address, e.g. 0x7f12a000+4096), got "${spec}"`);
  const addr = Number.parseInt(m[1]!, 16);
  if (!Number.isSafeInteger(addr)) throw usageError(`--dump: address ${m[1]} is out of range`, 'addresses are at most 2^53-1, e.g. --dump 0x7f12a000+4096');
  if (m[2] === undefined) return { addr };
  let len = m[2].startsWith('0x') ? Number.parseInt(m[2].slice(2), 16) : Number(m[2]);
  const unit = (m[3] ?? '').toLowerCase()[0];
  if (unit === 'k') len *= 1024;
  else if (unit === 'm') len *= 1024 ** 2;
  else if (unit === 'g') len *= 1024 ** 3;
  if (!Number.isSafeInteger(len) || len <= 0) throw usageError(`--dump: expected a positive length, got "${m[2]}${m[3] ?? ''}"`, 'for example: --dump 0x7f12a000+4096 (or +4k)');
  return { addr, len };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** --dump ... -o -: the bytes to stdout, waiting for the reader (a reader that goes away ends it quietly). */
async function streamMemory(search: typeof import('../../inspect/search.js'), img: import('../../inspect/images.js').ImageDir, pid: number, addr: number, len: number) {
  const missing: Array<{ start: number; end: number }> = [];
  let written = 0;
  for (const r of search.readMemoryChunks(img, pid, addr, len, 1 << 20)) {
    for (const m of r.missing) search.appendRange(missing, m);
    if (!process.stdout.write(r.data)) await new Promise<void>((res) => process.stdout.once('drain', res).once('close', res));
    if (process.stdout.destroyed) break;
    written += r.data.length;
  }
  return { written, missing };
}

export function register(program: Command): void {
  program
    .command('mem')
    .description("search a checkpoint's memory (exit 0 when found, 1 when not) or dump a range of it")
    .argument('<dir>', 'checkpoint images directory')
    .option('-p, --pid <pid>', 'only this process (default: every process); the host pid `cryo run` printed works too', parseIntOption('--pid'))
    .option('-s, --search <text>', 'find this exact text')
    .option('-e, --regex <re>', 'find this JavaScript regular expression (over bytes as latin1)')
    .option('-C, --context <n>', 'bytes of context around each match', parseIntOption('--context'), 16)
    .option('-m, --max <n>', 'stop after n matches', parseIntOption('--max'))
    .option('--dump <addr[+len]>', 'write the raw bytes of this range (zeros where not dumped); needs --pid and -o')
    .option('-o, --output <file>', 'where --dump writes (replaced; - for stdout)')
    .option('--json', 'JSON output')
    .action(async (dir: string, o: { pid?: number; search?: string; regex?: string; context: number; max?: number; dump?: string; output?: string; json?: boolean }) => {
      const modes = [o.search !== undefined, o.regex !== undefined, o.dump !== undefined].filter(Boolean).length;
      if (modes !== 1) {
        const { shellCommand } = await import('../render/escape.js');
        throw usageError('give exactly one of --search TEXT, --regex RE or --dump ADDR[+LEN]', `for example: ${shellCommand(['cryo', 'mem', dir, '--search', 'token='])}`);
      }
      let regex: RegExp | undefined;
      if (o.regex !== undefined) {
        try {
          regex = new RegExp(o.regex, 'g');
        } catch (e) {
          throw usageError(`--regex: ${(e as Error).message}`, 'use a JavaScript regular expression, e.g. --regex \'token=[0-9a-f]+\'');
        }
      }
      if (o.dump !== undefined && (o.pid === undefined || o.output === undefined)) {
        const { shellCommand } = await import('../render/escape.js');
        throw usageError('--dump needs --pid P and -o FILE (or -o - for stdout)', shellCommand(['cryo', 'mem', dir, '--pid', String(o.pid ?? 1), '--dump', o.dump, '-o', o.output ?? 'mem.bin']));
      }
      const range = o.dump !== undefined ? parseRange(o.dump) : undefined;
      const toStdout = o.output === '-';
      if (range && toStdout && process.stdout.isTTY) {
        const { shellCommand } = await import('../render/escape.js');
        throw usageError('refusing to write raw memory to a terminal', `redirect it: ${shellCommand(['cryo', 'mem', dir, '--pid', String(o.pid), '--dump', o.dump!, '-o', '-'])} > mem.bin`);
      }
      const { openImages } = await import('../../inspect/open.js');
      (await import('../render/pipe.js')).ignoreBrokenPipe();
      const search = await import('../../inspect/search.js');
      const { resolvePidOption } = await import('../checkpoint-pid.js');
      const { img, close } = await openImages(dir);
      try {
        const pid = resolvePidOption(img, o.pid);
        if (range) {
          let len = range.len;
          if (len === undefined) {
            const { AddressSpace } = await import('../../inspect/address-space.js');
            const vma = new AddressSpace(img, pid!).vmaAt(range.addr);
            if (!vma) {
              const { shellCommand } = await import('../render/escape.js');
              throw new CryoError('NOT_FOUND', `no mapping of process ${pid} contains ${hex(range.addr)}`, { hint: `give a length (ADDR+LEN), or see the mappings: ${shellCommand(['cryo', 'x', dir, 'mems', '--pid', String(pid)])}` });
            }
            len = vma.end - range.addr;
          }
          const r = toStdout ? await streamMemory(search, img, pid!, range.addr, len) : search.dumpMemory(img, pid!, range.addr, len, o.output!);
          const notDumped = r.missing.reduce((s, m) => s + m.end - m.start, 0);
          // with -o - stdout holds the bytes: the report goes to stderr
          const report = toStdout ? process.stderr : process.stdout;
          if (o.json) report.write(`${JSON.stringify({ pid, start: hex(range.addr), length: r.written, file: o.output, notDumped: r.missing.map((m) => ({ start: hex(m.start), end: hex(m.end) })) }, null, 2)}\n`);
          else {
            report.write(`wrote ${r.written} bytes of process ${pid} from ${hex(range.addr)} to ${toStdout ? 'stdout' : o.output}\n`);
            if (notDumped) process.stderr.write(`note: ${notDumped} of them were not in the checkpoint and are zeros (${r.missing.length} range${r.missing.length === 1 ? '' : 's'})\n`);
          }
          process.exitCode = 0;
          return;
        }
        const { hexdumpLines, printable } = await import('../render/hexdump.js');
        const { escapeBytes, escapeText } = await import('../render/escape.js');
        const color = useColor();
        const opts = { pid, text: o.search, regex, context: o.context, maxMatches: o.max };
        const matches = search.searchMemory(img, opts, o.json ? undefined : (m) => {
          // as grep: the matched text on the head line (escaped: memory is arbitrary bytes)
          const head = `${paint('35', String(m.pid), color)}  ${paint('1', hex(m.address), color)}  ${escapeText(m.mapping.name)} ${m.mapping.start.toString(16)}-${m.mapping.end.toString(16)} ${m.mapping.prot} +${hex(m.offset)}  ${paint('1;31', escapeBytes(m.match), color)}`;
          process.stdout.write(`${head}\n${hexdumpLines(m.context, m.contextStart, { start: m.address, end: m.address + m.length }, color).join('\n')}\n`);
        });
        if (o.json) {
          printJson({
            count: matches.length,
            matches: matches.map((m) => ({
              pid: m.pid, address: hex(m.address), length: m.length, offset: m.offset,
              mapping: { start: hex(m.mapping.start), end: hex(m.mapping.end), prot: m.mapping.prot, name: m.mapping.name },
              match: printable(m.match),
              context: { start: hex(m.contextStart), hex: m.context.toString('hex'), text: printable(m.context) },
            })),
          });
        } else if (matches.length === 0) process.stderr.write('no match\n');
        process.exitCode = matches.length ? 0 : 1;
      } finally {
        await close();
      }
    });
}
