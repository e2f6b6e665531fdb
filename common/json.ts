/**
 * Parses JSON as Java's fastjson writes it. fastjson writes maps with non-string keys with the
 * keys unquoted (`{"offsetTable":{"T@g":{0:250,1:251}}}`, `"brokerAddrs":{0:"1.2.3.4:10911"}`),
 * which `JSON.parse` refuses; this quotes such numeric keys (outside string literals) first.
 * Standard JSON passes through unchanged.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(quoteNumericKeys(text));
  }
}

function quoteNumericKeys(text: string): string {
  let out = '';
  let i = 0;
  // Tracks the last structural character so that a number right after `{` or `,` inside an
  // object is recognised as a key; numbers in arrays never precede a `:`.
  let last = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
      last = '"';
      continue;
    }
    if ((last === '{' || last === ',') && (c === '-' || (c >= '0' && c <= '9'))) {
      const m = /^-?\d+(\.\d+)?\s*:/.exec(text.slice(i, i + 40));
      if (m) {
        const key = m[0].slice(0, m[0].indexOf(':')).trim();
        out += `"${key}":`;
        i += m[0].length;
        last = ':';
        continue;
      }
    }
    if (!/\s/.test(c)) last = c;
    out += c;
    i++;
  }
  return out;
}

function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === '"') return i + 1;
    else i++;
  }
  return i;
}
