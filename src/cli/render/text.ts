// Generic text helpers for terminal output: padding, aligned columns, human sizes and durations.

export function padLeft(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

export function padRight(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/** Visible width of a string (ANSI colour codes do not count). */
function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

export type Align = 'left' | 'right';

/** Rows of cells as aligned columns separated by two spaces; no trailing spaces. */
export function columns(rows: string[][], align: Align[] = [], indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows.map((r) => indent + r.map((c, i) => {
    const pad = ' '.repeat(Math.max(0, widths[i]! - visibleLength(c)));
    if (align[i] === 'right') return pad + c;
    return i === r.length - 1 ? c : c + pad;
  }).join('  ').replace(/\s+$/, ''));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; exact bytes below 1 KiB. */
export function humanBytes(n: number | bigint): string {
  let v = Number(n);
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${v} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`.replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');
}

/** Microseconds -> "850 µs", "12.3 ms", "1.25 s". */
export function humanMicros(us: number | bigint): string {
  const v = Number(us);
  if (v < 1000) return `${v} µs`;
  if (v < 1_000_000) return `${trim(v / 1000)} ms`;
  return `${trim(v / 1_000_000)} s`;
}

function trim(v: number): string {
  // only zeros after the point go: 200 stays 200
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** 1234567 -> "1,234,567" */
export function groupDigits(n: number | bigint): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
