/**
 * The fenced code block that follows `<!-- <marker> -->` in a markdown document, exactly as written: the
 * tests that prove the docs run the blocks a reader copies, not a copy of them.
 */
export function docBlock(markdown: string, marker: string): string {
  const tag = `<!-- ${marker} -->`;
  const at = markdown.indexOf(tag);
  if (at < 0) throw new Error(`the document has no ${tag}`);
  const m = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(markdown.slice(at + tag.length));
  if (!m?.[1]) throw new Error(`no code block after ${tag}`);
  return m[1];
}
