// Text of crit's explore views, column for column.
import type { FdsProcess, MemsProcess, PsRow, RssProcess } from '../../inspect/explore.js';
import { escapeText as esc } from './escape.js';
import { padLeft, padRight } from './text.js';

/** `labels`: what to show instead of the comm (cryo's init), by pid. */
export function renderPs(rows: PsRow[], labels: ReadonlyMap<number, string> = new Map()): string {
  const out = [`${padLeft('PID', 7)}${padLeft('PGID', 7)}${padLeft('SID', 7)}   COMM`];
  for (const r of rows) out.push(`${padLeft(String(r.pid), 7)}${padLeft(String(r.pgid), 7)}${padLeft(String(r.sid), 7)}   ${' '.repeat(4 * r.depth)}${labels.get(r.pid) ?? esc(r.comm)}`);
  return out.join('\n') + '\n';
}

export function renderFds(procs: FdsProcess[]): string {
  const out: string[] = [];
  for (const p of procs) {
    out.push(String(p.pid));
    for (const f of p.fds) out.push(`\t${padLeft(String(f.fd), 7)}: ${esc(f.file)}`);
  }
  return out.join('\n') + '\n';
}

// two hex digits per byte value: numbers past 2^31 (every address) take V8's slow path through toString(16)
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const SPACES = Array.from({ length: 37 }, (_, n) => ' '.repeat(n));

function hex8(v: number | bigint): string {
  if (typeof v === 'bigint' || v < 0 || v > Number.MAX_SAFE_INTEGER) return v.toString(16).padStart(8, '0');
  const hi = Math.floor(v / 65536);
  const lo = v - hi * 65536;
  const s = hi.toString(16) + HEX2[lo >>> 8]! + HEX2[lo & 255]!;
  return s.length >= 8 ? s : s.padStart(8, '0');
}

export function renderMems(procs: MemsProcess[]): string {
  const out: string[] = [];
  for (const p of procs) {
    out.push(String(p.pid));
    out.push(`\t${padRight('exe', 36)}    ${esc(p.exe)}`);
    for (const v of p.vmas) {
      const range = `${hex8(v.start)}-${hex8(v.end)}`;
      // most mappings are anonymous: no name to escape
      out.push(`\t${range.length < 36 ? range + SPACES[36 - range.length] : range}${v.prot}${v.name === '' ? '' : esc(v.name)}`);
    }
  }
  return out.join('\n') + '\n';
}

export function renderRss(procs: RssProcess[]): string {
  const out: string[] = [];
  for (const p of procs) {
    out.push(String(p.pid));
    for (const r of p.runs) {
      const pstr = `\t${r.vaddr.toString(16)} / ${padRight(String(r.pages), 8)}`;
      let vstr = '';
      for (const v of r.vmas) {
        if (v === 'same') vstr += ' ~';
        else vstr += ` ${hex8(v.start)} / ${padRight(String(v.pages), 8)}${v.file !== undefined ? ` ${esc(v.file)}` : ''}`;
        vstr += `\n\t${' '.repeat(23)}`;
      }
      out.push(`${padRight(pstr, 24)}${vstr}`);
    }
  }
  return out.join('\n') + '\n';
}
