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
  // Unchanged runs are copied as slices, and slices are joined a thousand at a time: adding one
  // character at a time builds a rope of millions of nodes (hundreds of MiB and seconds for a
  // 16 MiB body), and so would millions of small slices waiting for one final join.
  const joined: string[] = [];
  let pieces: string[] = [];
  const emit = (piece: string) => {
    pieces.push(piece);
    if (pieces.length >= 1024) {
      joined.push(pieces.join(''));
      pieces = [];
    }
  };
  let copiedTo = 0;
  let i = 0;
  // Tracks the last structural character so that a number right after `{` or `,` inside an
  // object is recognised as a key; numbers in arrays never precede a `:`.
  let last = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i);
      last = '"';
      continue;
    }
    if ((last === '{' || last === ',') && (c === '-' || (c >= '0' && c <= '9'))) {
      const m = /^-?\d+(\.\d+)?\s*:/.exec(text.slice(i, i + 40));
      if (m) {
        const key = m[0].slice(0, m[0].indexOf(':')).trim();
        emit(text.slice(copiedTo, i));
        emit(`"${key}":`);
        i += m[0].length;
        copiedTo = i;
        last = ':';
        continue;
      }
    }
    if (!isWhitespace(text.charCodeAt(i), c)) last = c;
    i++;
  }
  emit(text.slice(copiedTo));
  joined.push(pieces.join(''));
  return joined.join('');
}

/** `/\s/.test(c)` without running a regular expression for every ASCII character. */
function isWhitespace(code: number, c: string): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return /\s/.test(c);
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
