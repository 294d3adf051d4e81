import { describe, expect, it } from "vitest";
import { safeRedirect } from "../src/redirect.ts";
import { HOSTILE_REDIRECTS } from "./hostile-redirects.ts";

const BASE = "https://market.example.com";

describe("F.7 one safe redirect rule", () => {
  it("F.7a every hostile target falls back", () => {
    const accepted = HOSTILE_REDIRECTS.map((t) => [t, safeRedirect(t, { base: BASE })]).filter(
      ([, r]) => r !== "/",
    );
    expect(accepted).toEqual([]);
  });

  it("F.7b same-origin paths come back as re-serialised paths; registered origins come back absolute", () => {
    expect(safeRedirect("/pricing/a?x=1#t", { base: BASE })).toBe("/pricing/a?x=1#t");
    expect(safeRedirect("/dashboard", { base: BASE })).toBe("/dashboard");
    expect(safeRedirect(`${BASE}/dashboard`, { base: BASE })).toBe("/dashboard");
    // Encoded slashes stay encoded in the path: the browser stays on this origin.
    expect(safeRedirect("%2F%2Fevil", { base: BASE })).toBe("/%2F%2Fevil");
    expect(safeRedirect("/%2F/evil.example", { base: BASE })).toBe("/%2F/evil.example");
    // Same scheme without slashes is a relative reference (RFC 3986 §5.2.2, as browsers resolve it).
    expect(safeRedirect("https:evil.example", { base: BASE })).toBe("/evil.example");
    expect(safeRedirect("/a\tb", { base: BASE })).toBe("/ab");
    expect(safeRedirect("/a b<\"'", { base: BASE })).toBe("/a%20b%3C%22'");
    for (const empty of [undefined, null, ""]) expect(safeRedirect(empty, { base: BASE })).toBe("/");
    const opts = { base: "https://api.example.com", allowedOrigins: ["https://app.example.com"] };
    expect(safeRedirect("https://app.example.com/k?x=1", opts)).toBe("https://app.example.com/k?x=1");
    expect(safeRedirect("https://app.example.com.evil.example/", opts)).toBe("/");
    expect(safeRedirect("//app.example.com/k", opts)).toBe("https://app.example.com/k");
    expect(safeRedirect("https://evil.example", { ...opts, fallback: "/home" })).toBe("/home");
  });
});
