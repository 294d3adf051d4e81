// Shared by the contract's, the marketplace's and agent-kit's F.7 tests: one list, three places it must hold.

/** Targets that a browser would follow off the origin, or into script; each must come back as the fallback (base https://market.example.com). */
export const HOSTILE_REDIRECTS = [
  "/\t/evil.example/x",
  "/\n/evil.example/x",
  "/\r\n/evil.example/x",
  "\t//evil.example",
  " //evil.example",
  "//evil.example",
  "///evil.example",
  "////evil.example",
  "/\\evil.example",
  "\\\\evil.example",
  "\\/evil.example",
  "/\\/evil.example",
  "https://evil.example",
  "https://evil.example/",
  "HTTPS://evil.example",
  "http://market.example.com/", // same host, other scheme: another origin
  "https://market.example.com:8443/",
  "https://market.example.com@evil.example/",
  "https://user:pass@market.example.com/",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  "java\tscript:alert(1)",
  " javascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "vbscript:msgbox(1)",
  "https://market.example.com//evil.example",
];
