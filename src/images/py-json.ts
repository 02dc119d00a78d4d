// Python's json.dumps, byte for byte (ensure_ascii; indent 4 when pretty): what crit prints. Integers may
// be bigint and are written exactly. ensure_ascii makes the output pure ASCII, so it goes straight into bytes.

/** A JSON value with exact integers: bigint for integers, number only for small ones. */
export type J = null | boolean | number | bigint | string | J[] | { [k: string]: J };

export class Out {
  buf: Buffer;
  len = 0;
  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** x must be ASCII; short strings are copied by hand, which beats Buffer.write's call overhead */
  ascii(x: string): void {
    const n = x.length;
    if (this.len + n > this.buf.length) this.grow(n);
    if (n < 64) {
      const b = this.buf;
      let l = this.len;
      for (let i = 0; i < n; i++) b[l++] = x.charCodeAt(i);
      this.len = l;
    } else this.len += this.buf.write(x, this.len, 'latin1');
  }

  /** a JSON string; escapes only when needed */
  str(x: string): void {
    if (NEEDS_ESCAPE.test(x)) { this.ascii(quote(x)); return; }
    const n = x.length;
    if (this.len + n + 2 > this.buf.length) this.grow(n + 2);
    this.buf[this.len++] = 34;
    this.ascii(x);
    this.buf[this.len++] = 34;
  }

  int(v: number): void {
    // V8's own number-to-text (native, cached) and a copy beat a digit loop run before it is optimised
    if (v >= 0 && v < 10 && (v | 0) === v) {
      if (this.len + 1 > this.buf.length) this.grow(1);
      this.buf[this.len++] = 48 + v;
    } else this.ascii(Number.isInteger(v) ? `${v}` : numberText(v));
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.len);
  }
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u0080-\uffff]/;

export function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c < 0x20 || c > 0x7e) {
      if (c === 0x7f) out += s[i];
      else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += s[i];
  }
  return `${out}"`;
}

export function numberText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return pyFloatRepr(v);
}

// Python's float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16)
function pyFloatRepr(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e16 || abs < 1e-4) {
    const [m, e] = v.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

const INDENTS: string[] = [];
export function nl(level: number): string {
  return (INDENTS[level] ??= `\n${'    '.repeat(level)}`);
}

export function writeJ(o: Out, v: J, pretty: boolean, level: number): void {
  if (v === null) o.ascii('null');
  else if (typeof v === 'string') o.str(v);
  else if (typeof v === 'number') o.int(v);
  else if (typeof v === 'bigint') o.ascii(v.toString());
  else if (typeof v === 'boolean') o.ascii(v ? 'true' : 'false');
  else if (Array.isArray(v)) {
    if (v.length === 0) { o.ascii('[]'); return; }
    o.ascii('[');
    for (let i = 0; i < v.length; i++) {
      if (pretty) o.ascii(i ? `,${nl(level + 1)}` : nl(level + 1));
      else if (i) o.ascii(', ');
      writeJ(o, v[i], pretty, level + 1);
    }
    o.ascii(pretty ? `${nl(level)}]` : ']');
  } else {
    const keys = Object.keys(v);
    if (keys.length === 0) { o.ascii('{}'); return; }
    o.ascii('{');
    for (let i = 0; i < keys.length; i++) {
      if (pretty) o.ascii(i ? `,${nl(level + 1)}` : nl(level + 1));
      else if (i) o.ascii(', ');
      o.str(keys[i]);
      o.ascii(': ');
      writeJ(o, v[keys[i]], pretty, level + 1);
    }
    o.ascii(pretty ? `${nl(level)}}` : '}');
  }
}

/** Serialize like Python's json.dumps (ensure_ascii; indent 4 when pretty). Integers may be bigint. */
export function stringifyJson(v: unknown, pretty = false): string {
  const o = new Out();
  writeJ(o, v as J, pretty, 0);
  return o.text();
}
