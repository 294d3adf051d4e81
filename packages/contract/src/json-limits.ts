/**
 * Limits every JSON body of both services is held to before it is parsed or
 * stored (docs/billing.md, "Input limits"). PostgreSQL text and jsonb cannot
 * hold a NUL character, and a deeply nested document overflows recursive
 * code (validators, JSON.stringify, PostgreSQL's jsonb parser) long before it
 * means anything, so both are refused up front as a 400.
 */
export const MAX_JSON_DEPTH = 32;

/** Consume metadata: a small flat-ish record attached to the ledger row. */
export const METADATA_LIMITS = { maxBytes: 4_096, maxDepth: 4 } as const;

/**
 * Why `text` (a JSON document, not yet parsed) must be refused, or null.
 * One linear pass, no recursion: nesting deeper than `maxDepth` (arrays and
 * objects, outside strings) and an escaped NUL (`\u0000`) inside a string.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) {
        const next = text.charCodeAt(i + 1);
        if (next === 0x75 /* u */ && /^[uU]0000$/.test(text.slice(i + 1, i + 6)))
          return "strings must not contain the NUL character (\\u0000)";
        i++; // skip the escaped character
      } else if (ch === 0x22 /* " */) inString = false;
      else if (ch === 0) return "strings must not contain the NUL character";
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels`;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return null;
}

/** Nesting depth of a parsed value, counted without recursion and up to `limit + 1`. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, depth]);
  }
  return max;
}

/** True when `s` holds no NUL character (which PostgreSQL text cannot store). */
export const noNul = (s: string) => !s.includes("\u0000");
