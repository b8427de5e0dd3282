/**
 * Returns the exact source text of member `key` of the top-level JSON object in `text`, or
 * undefined when the object has no such member. Intel signs these bytes as served, so a
 * verifier must slice them out instead of re-serialising a parsed value. `text` must be valid
 * JSON (the caller parses it first).
 */
export function extractJsonMember(text: string, key: string): string | undefined {
  let index = skipWhitespace(text, 0);
  if (text[index] !== "{") return undefined;
  index = skipWhitespace(text, index + 1);
  while (index < text.length && text[index] !== "}") {
    const keyEnd = endOfString(text, index);
    const memberKey = JSON.parse(text.slice(index, keyEnd)) as string;
    index = skipWhitespace(text, keyEnd);
    index = skipWhitespace(text, index + 1); // past ':'
    const valueEnd = endOfValue(text, index);
    if (memberKey === key) return text.slice(index, valueEnd);
    index = skipWhitespace(text, valueEnd);
    if (text[index] === ",") index = skipWhitespace(text, index + 1);
  }
  return undefined;
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && " \t\r\n".includes(text[index]!)) index++;
  return index;
}

/** Index just past the string literal that starts at `index`. */
function endOfString(text: string, index: number): number {
  for (let i = index + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new SyntaxError("unterminated JSON string");
}

/** Index just past the JSON value that starts at `index`. */
function endOfValue(text: string, index: number): number {
  const first = text[index];
  if (first === '"') return endOfString(text, index);
  if (first !== "{" && first !== "[") {
    let i = index;
    while (i < text.length && !",}] \t\r\n".includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (let i = index; i < text.length; i++) {
    const char = text[i];
    if (char === '"') i = endOfString(text, i) - 1;
    else if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new SyntaxError("unterminated JSON value");
}
