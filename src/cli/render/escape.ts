// Text from a checkpoint (argv, paths, comm, socket names) is the dumped program's: it must not drive
// the terminal. One place turns control characters into visible escapes and words into shell words.

// C0, DEL, C1, and the Unicode line separators and bidi controls that reorder what a terminal shows
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** Control characters as escapes ("\x1b" -> "\\x1b", newline -> "\\n"); everything else as it is. */
export function escapeText(s: string): string {
  return s.replace(CONTROL, escapeChar);
}

/** Whether `s` holds a character escapeText would change. */
function hasControl(s: string): boolean {
  CONTROL.lastIndex = 0;
  const r = CONTROL.test(s);
  CONTROL.lastIndex = 0;
  return r;
}

/** Raw bytes (memory) as a quoted literal: printable ASCII as is, the rest as \xNN, `"` and `\` escaped. */
export function escapeBytes(b: Buffer): string {
  let s = '"';
  for (const x of b) {
    const c = String.fromCharCode(x);
    if (c === '"' || c === '\\') s += `\\${c}`;
    else if (x >= 0x20 && x < 0x7f) s += c;
    else s += NAMED[c] ?? `\\x${x.toString(16).padStart(2, '0')}`;
  }
  return `${s}"`;
}

/**
 * One argv word as a shell word that pastes back as the same word: bare when safe, else single-quoted,
 * or $'...' (bash's ANSI-C quoting) when it holds control characters, which are then escaped.
 */
export function shellWord(w: string): string {
  if (/^[\w@%+=:,./-]+$/.test(w)) return w;
  if (hasControl(w)) return `$'${escapeText(w.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}'`;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one pasteable command line. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}
