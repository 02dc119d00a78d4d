// Classic hex + text dump lines, with an optional highlighted byte range.
import { paint } from '../output.js';

export function hexdumpLines(data: Buffer, baseAddr: number, highlight?: { start: number; end: number }, color = false, indent = '  '): string[] {
  const lines: string[] = [];
  const first = baseAddr - (baseAddr % 16);
  for (let row = first; row < baseAddr + data.length; row += 16) {
    let hex = '';
    let text = '';
    for (let a = row; a < row + 16; a++) {
      const i = a - baseAddr;
      if (a - row === 8) hex += ' ';
      if (i < 0 || i >= data.length) {
        hex += '   ';
        text += ' ';
        continue;
      }
      const b = data[i]!;
      const on = color && highlight !== undefined && a >= highlight.start && a < highlight.end;
      hex += ' ' + paint('1;31', b.toString(16).padStart(2, '0'), on);
      text += paint('1;31', b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.', on);
    }
    lines.push(`${indent}${row.toString(16).padStart(12, '0')} ${hex}  |${text}|`);
  }
  return lines;
}

/** Bytes as printable text: non-printable bytes as '.'. */
export function printable(data: Buffer): string {
  let s = '';
  for (const b of data) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return s;
}
