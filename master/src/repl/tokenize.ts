// Splits a REPL line into words like a shell does: whitespace separates, '...' is literal,
// "..." allows \" and \\, a backslash outside quotes escapes the next character.

export interface Tokens {
  words: string[];
  /** the line ends inside a word (no whitespace after the last one): what Tab completes */
  endsInWord: boolean;
  /** set when a quote is left open */
  error?: string | undefined;
}

export function tokenize(line: string): Tokens {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return {
    words,
    endsInWord: inWord,
    error: quote ? `unclosed ${quote === "'" ? 'single' : 'double'} quote` : undefined,
  };
}
