import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedOptions } from "../src/config.ts";
import { toInternal } from "../src/discovery.ts";
import { AgentKit } from "../src/kit.ts";
import { startRelyingParty } from "./support/relying-party.ts";

/**
 * marketplaceInternalUrl (issue 11 §3): browsers use the public URL, this backend the internal one, and the
 * issuer is the public one, checked exactly. The provider is published at http://localhost:<port> and the
 * agent reaches it at http://127.0.0.1:<port>, so each request's Host header shows which URL was used.
 */
let rp: Awaited<ReturnType<typeof startRelyingParty>>;
let publicHost: string;
let internalHost: string;
beforeAll(async () => {
  rp = await startRelyingParty({ internalUrl: true });
  internalHost = new URL(rp.provider.base).host;
  publicHost = internalHost.replace("127.0.0.1", "localhost");
});
afterAll(() => rp?.close());

const hostsOf = (path: string, from = 0) =>
  new Set(
    rp.provider.hosts
      .slice(from)
      .filter((h) => h.path === path)
      .map((h) => h.host),
  );

describe("marketplaceInternalUrl", () => {
  it("startup: discovery and the JWKS come from the internal URL; the issuer stays the public one", () => {
    expect(rp.kit.options.issuer).toBe(`http://${publicHost}/api/auth`);
    expect(hostsOf("/.well-known/openid-configuration")).toEqual(new Set([internalHost]));
    expect(rp.kit.discovery.token_endpoint).toBe(`http://${internalHost}/api/auth/token`);
    expect(rp.kit.discovery.jwks_uri).toBe(`http://${internalHost}/api/auth/jwks`);
    expect(rp.kit.discovery.userinfo_endpoint).toBe(`http://${internalHost}/api/auth/userinfo`);
    // Browser-facing endpoints are left as published.
    expect(rp.kit.discovery.authorization_endpoint).toBe(`http://${publicHost}/api/auth/authorize`);
  });

  it("sign-in: the browser goes to the public URL; token, JWKS and userinfo go to the internal one", async () => {
    const from = rp.provider.hosts.length;
    const { browser, callback } = await rp.signIn();
    expect(callback.status).toBe(303);
    expect((await browser.fetch("/me")).status).toBe(200);
    expect(hostsOf("/authorize", from)).toEqual(new Set([publicHost]));
    expect(hostsOf("/token", from)).toEqual(new Set([internalHost]));
    expect(hostsOf("/userinfo", from)).toEqual(new Set([internalHost]));
    for (const h of rp.provider.hosts.slice(from))
      if (h.path !== "/authorize") expect(h.host, h.path).toBe(internalHost);
  });

  it("refresh and the usage API go to the internal URL", async () => {
    const { browser } = await rp.signIn();
    const me = await browser.fetch("/me");
    expect(me.status).toBe(200);
    const [row] = await rp.db.query<{ userId: string }>(
      `SELECT "userId" FROM "account" ORDER BY "createdAt" DESC LIMIT 1`,
    );
    const from = rp.provider.hosts.length;
    await rp.kit.tokens.getAccessToken(row!.userId, { forceRefresh: true });
    await rp.kit
      .client(row!.userId)
      .getUsage()
      .catch(() => undefined);
    const paths = rp.provider.hosts.slice(from);
    expect(paths.map((h) => h.path)).toEqual(expect.arrayContaining(["/token", "/me/agents/agent-1/usage"]));
    for (const h of paths) expect(h.host, h.path).toBe(internalHost);
    // Links for browsers still name the public URL.
    expect(rp.kit.upgradeUrl).toBe(`http://${publicHost}/pricing/agent-one`);
  });

  it("the discovered issuer must equal the PUBLIC url: configuring the internal one as public refuses to start", async () => {
    const { issuer: _i, internalUrl: _u, fetch: _f, marketplaceInternalUrl: _m, ...options } = rp.kit.options;
    // The reproduction: the agent told the marketplace is at 127.0.0.1 while it publishes localhost.
    await expect(AgentKit.create({ ...options, marketplaceUrl: rp.provider.base })).rejects.toThrow(
      /names issuer "http:\/\/localhost:\d+\/api\/auth", expected exactly "http:\/\/127\.0\.0\.1:\d+\/api\/auth"/,
    );
  });
});

describe("toInternal", () => {
  const options = { marketplaceUrl: "https://mp.example.com", internalUrl: "http://marketplace:4000" };
  it("rewrites endpoints under the public URL to the same path under the internal one", () => {
    expect(toInternal("https://mp.example.com/api/auth/oauth2/token", options)).toBe(
      "http://marketplace:4000/api/auth/oauth2/token",
    );
  });
  it("leaves endpoints anywhere else exactly as published", () => {
    for (const url of [
      "https://keys.example.net/jwks",
      "https://mp.example.com.evil.net/api/auth/jwks",
      "https://mp.example.com:8443/api/auth/jwks",
      "http://mp.example.com/api/auth/jwks",
    ])
      expect(toInternal(url, options)).toBe(url);
  });
  it("keeps a public path prefix apart from the internal URL's", () => {
    const prefixed = { marketplaceUrl: "https://example.com/mp", internalUrl: "http://mp:4000" } as Pick<
      ResolvedOptions,
      "marketplaceUrl" | "internalUrl"
    >;
    expect(toInternal("https://example.com/mp/api/auth/jwks", prefixed)).toBe("http://mp:4000/api/auth/jwks");
    expect(toInternal("https://example.com/mpx/api/auth/jwks", prefixed)).toBe(
      "https://example.com/mpx/api/auth/jwks",
    );
  });
});
