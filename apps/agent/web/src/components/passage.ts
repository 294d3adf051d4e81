/**
 * Where a cited passage sits in a document. The server cuts documents into paragraphs (blank-line
 * separated) and quotes them with whitespace collapsed, so the viewer does the same: it returns the
 * paragraphs, each collapsed, and for the one holding the quote the [start, end) of the quote in it.
 */
export function paragraphsWithQuote(content: string, quote: string | null) {
  const needle = quote?.replace(/\s+/g, " ").trim() ?? "";
  let found = false;
  return content
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .map((text) => {
      const at = needle && !found ? text.indexOf(needle) : -1;
      if (at === -1) return { text, mark: null };
      found = true;
      return { text, mark: [at, at + needle.length] as const };
    });
}
