import ReactMarkdown, { type Components } from "react-markdown";

/**
 * Answers are Markdown from documents or a model: rendered without raw HTML (skipHtml), with
 * react-markdown's default URL filter (no javascript: links), and links opening in a new tab
 * without handing this page to the target.
 */
const components: Components = {
  // The URL filter empties unsafe hrefs (javascript: and the like): such a "link" is shown as its text.
  a: ({ node: _node, href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  img: ({ node: _node, alt }) => <span className="muted">[image: {alt || "untitled"}]</span>,
};

export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown skipHtml components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
