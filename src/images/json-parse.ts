// A JSON parser that keeps integers exact: outside the safe range they become bigint (crit writes
// 64-bit values as bare numbers). Also reads Python's NaN and Infinity.

const MAX_JSON_DEPTH = 512;

export class JsonParseError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** Parse JSON; integers outside the safe range become bigint so nothing is rounded. */
export function parseJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => { throw new JsonParseError(msg, i); };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail('nested too deeply');
    ws();
    if (i >= n) fail('unexpected end of input');
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        else o[k] = v;
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    if (text.startsWith('NaN', i)) { i += 3; return NaN; }
    if (text.startsWith('Infinity', i)) { i += 8; return Infinity; }
    if (text.startsWith('-Infinity', i)) { i += 9; return -Infinity; }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r || r[0].length === 0 || r[0] === '-') fail(`unexpected character ${JSON.stringify(c)}`);
    i += r![0].length;
    if (r![2] === undefined && r![3] === undefined) {
      const num = Number(r![0]);
      return Number.isSafeInteger(num) ? num : BigInt(r![0]);
    }
    return Number(r![0]);
  };
  const str = (): string => {
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) { out += text.slice(start, i); i++; return out; }
      if (c < 0x20) fail('control character in string');
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default: i -= 2; fail('bad escape');
        }
        start = i;
      } else i++;
    }
  };
  const v = value(0);
  ws();
  if (i < n) fail('trailing characters after the JSON value');
  return v;
}
