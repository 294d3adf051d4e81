import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HOSTILE_REDIRECTS } from "../../contract/test/hostile-redirects.ts";
import { Browser } from "../../marketplace/test/support/oauth.ts";
import { AgentKitConfigError } from "../src/config.ts";
import { idTokenVerifier } from "../src/id-token.ts";
import { AgentKit } from "../src/kit.ts";
import { HostileProvider } from "./support/hostile-provider.ts";
import { startRelyingParty } from "./support/relying-party.ts";
import { SECRET } from "./support/stack.ts";
import { testStore } from "./support/storage.ts";

let op: HostileProvider;
let agentUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ provider: op, url: agentUrl, close } = await startRelyingParty());
});
afterAll(() => close?.());
beforeEach(() => {
  op.behaviour = {};
  op.publishedKeys = 1;
});

/** Runs the browser through agent → provider → agent callback; returns the callback answer. */
async function signIn(returnTo = "/home") {
  const browser = new Browser(agentUrl);
  const start = await browser.fetch(`/api/auth/sign-in/marketplace?returnTo=${encodeURIComponent(returnTo)}`);
  const authorize = await browser.fetch(start.headers.get("location")!);
  const callbackUrl = authorize.headers.get("location")!;
  const callback = await browser.fetch(callbackUrl);
  return { browser, callback, callbackUrl, signedIn: browser.cookies.has("agent.session_token") };
}

async function expectRejected(tokenCalls = 1) {
  const before = { ...op.calls };
  const { callback, signedIn } = await signIn();
  expect(callback.status).toBe(400);
  expect(signedIn).toBe(false);
  expect(op.calls.token - before.token).toBe(tokenCalls);
  // B.23: a rejected ID token never leads to a userinfo call.
  expect(op.calls.userinfo - before.userinfo).toBe(0);
}

describe("the sign-in transaction", () => {
  it("a well-behaved provider signs the user in and lands on the validated return target with 303", async () => {
    const { callback, signedIn } = await signIn("/home");
    expect(signedIn).toBe(true);
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).toBe("/home");
  });

  it("B.1 fresh state, nonce and S256 verifier (≥128 bits) per login", async () => {
    const before = op.authorizeRequests.length;
    await signIn();
    await signIn();
    const [a, b] = op.authorizeRequests.slice(before);
    for (const p of [a!, b!]) {
      expect(p.get("code_challenge_method")).toBe("S256");
      expect(p.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(p.get("state")!.length).toBeGreaterThanOrEqual(22);
      expect(p.get("nonce")!.length).toBeGreaterThanOrEqual(22);
      expect(p.get("scope")!.split(" ")).toEqual(
        expect.arrayContaining(["openid", "offline_access", "marketplace:agentTiers"]),
      );
    }
    for (const name of ["state", "nonce", "code_challenge"]) expect(a!.get(name)).not.toBe(b!.get(name));
  });

  it("B.2 a missing or different state is rejected before any token request", async () => {
    for (const state of [null, "forged-state-value"]) {
      const browser = new Browser(agentUrl);
      const start = await browser.fetch("/api/auth/sign-in/marketplace");
      const authorize = await browser.fetch(start.headers.get("location")!);
      const url = new URL(authorize.headers.get("location")!);
      if (state) url.searchParams.set("state", state);
      else url.searchParams.delete("state");
      const tokens = op.calls.token;
      const callback = await browser.fetch(url.toString());
      expect(callback.status).toBe(400);
      expect(op.calls.token).toBe(tokens);
      expect(browser.cookies.has("agent.session_token")).toBe(false);
    }
  });

  it("B.3 a replayed callback is rejected; B.8 a callback without the transaction cookie is rejected", async () => {
    const first = await signIn();
    expect(first.signedIn).toBe(true);
    const replay = await new Browser(agentUrl).fetch(first.callbackUrl);
    expect(replay.status).toBe(400);
    const again = await first.browser.fetch(first.callbackUrl);
    expect(again.status).toBe(400);
  });

  it("B.4 a wrong or missing iss on the authorization response is rejected (mix-up)", async () => {
    op.behaviour = { responseIss: "https://evil.example.com/api/auth" };
    await expectRejected(0);
    op.behaviour = { responseIss: null };
    await expectRejected(0);
  });

  it("B.5 error=access_denied shows a clean page with the description escaped", async () => {
    const response = await fetch(
      `${agentUrl}/api/auth/oauth2/callback/marketplace?error=access_denied&error_description=${encodeURIComponent("<script>alert(1)</script>")}&state=x`,
    );
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;");
  });

  it("B.6 the callback answers 303 without the code and with Referrer-Policy no-referrer", async () => {
    const { callback } = await signIn("/after");
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).not.toContain("code=");
    expect(callback.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("B.7 hostile return targets fall back to /", async () => {
    for (const target of [
      "https://evil.example.com/",
      "//evil.example.com",
      "/\\evil.example.com",
      "javascript:alert(1)",
    ]) {
      const { callback } = await signIn(target);
      expect(callback.headers.get("location"), target).toBe("/");
    }
  });

  it("F.7e every target of the shared hostile list falls back to / (the one redirect rule)", async () => {
    const followed: string[] = [];
    for (const target of HOSTILE_REDIRECTS) {
      const { callback } = await signIn(target);
      if (callback.headers.get("location") !== "/")
        followed.push(`${JSON.stringify(target)} → ${callback.headers.get("location")}`);
    }
    expect(followed).toEqual([]);
  });

  it("B.8 the session id is new after login", async () => {
    const { browser } = await signIn();
    const firstSession = browser.cookies.get("agent.session_token");
    const start = await browser.fetch("/api/auth/sign-in/marketplace");
    const authorize = await browser.fetch(start.headers.get("location")!);
    await browser.fetch(authorize.headers.get("location")!);
    expect(browser.cookies.get("agent.session_token")).not.toBe(firstSession);
  });
});

describe("ID token verification", () => {
  it("B.9 alg none is rejected", async () => {
    op.behaviour = { token: async ({ payload }) => new UnsecuredJWT(payload).encode() };
    await expectRejected();
  });

  it("B.10 HS256 keyed with the public key, RS256 and ES256 are rejected (EdDSA pinned)", async () => {
    const publicJwk = await exportJWK(op.keys[0]!.publicKey);
    op.behaviour = {
      token: ({ payload }) =>
        new SignJWT(payload)
          .setProtectedHeader({ alg: "HS256", kid: "k1" })
          .sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
    };
    await expectRejected();
    for (const alg of ["RS256", "ES256"] as const) {
      const other = await generateKeyPair(alg);
      op.behaviour = {
        token: ({ payload }) =>
          new SignJWT(payload).setProtectedHeader({ alg, kid: "k1" }).sign(other.privateKey),
      };
      await expectRejected();
    }
  });

  it("B.11 a flipped signature byte is rejected", async () => {
    op.behaviour = {
      token: async ({ payload, sign }) => {
        const token = await sign(payload);
        const [h, p, sig] = token.split(".");
        const bytes = Buffer.from(sig!, "base64url");
        bytes[0]! ^= 0xff;
        return `${h}.${p}.${bytes.toString("base64url")}`;
      },
    };
    await expectRejected();
  });

  it("B.12 a wrong issuer (even a trailing slash) is rejected", async () => {
    for (const iss of ["https://evil.example.com/api/auth", `${op.issuer}/`]) {
      op.behaviour = { claims: { iss } };
      await expectRejected();
    }
  });

  it("B.13 a wrong, missing or extra audience is rejected; [client_id] is accepted", async () => {
    for (const aud of ["someone-else", undefined, [op.clientId, "untrusted-client"]]) {
      op.behaviour = { claims: { aud } };
      await expectRejected();
    }
    op.behaviour = { claims: { aud: [op.clientId] } };
    expect((await signIn()).signedIn).toBe(true);
  });

  it("B.14 exp in the past or missing is rejected", async () => {
    for (const exp of [Math.floor(Date.now() / 1000) - 3_600, undefined]) {
      op.behaviour = { claims: { exp } };
      await expectRejected();
    }
  });

  it("B.15 iat missing, a week old or in the future is rejected", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [undefined, now - 7 * 86_400, now + 3_600]) {
      op.behaviour = { claims: { iat } };
      await expectRejected();
    }
  });

  it("B.16 a missing sub is rejected", async () => {
    op.behaviour = { claims: { sub: undefined } };
    await expectRejected();
  });

  it("B.17 a different or missing nonce is rejected", async () => {
    for (const nonce of ["not-the-nonce-we-sent", undefined]) {
      op.behaviour = { claims: { nonce } };
      await expectRejected();
    }
  });

  it("B.18 no kid with one published key is accepted", async () => {
    op.behaviour = { header: { kid: undefined } };
    expect((await signIn()).signedIn).toBe(true);
  });

  it("B.19 unknown kids cause no JWKS fetch storm: refetches are bounded by the cooldown", async () => {
    await signIn(); // keys cached
    op.behaviour = { header: { kid: "never-published" } };
    const before = op.calls.jwks;
    for (let i = 0; i < 5; i++) await expectRejected();
    // At most one refetch per key cache (the sign-in library's and agent-kit's), not one per attempt.
    expect(op.calls.jwks - before).toBeLessThanOrEqual(2);
  });
});

describe("ID token verification with several published keys", () => {
  it("B.18 no kid with several published keys is rejected", async () => {
    const rp = await startRelyingParty({ publishedKeys: 2 });
    try {
      rp.provider.behaviour = { header: { kid: undefined } };
      const { browser, callback } = await rp.signIn();
      expect(callback.status).toBe(400);
      expect(browser.cookies.has("agent.session_token")).toBe(false);
    } finally {
      await rp.close();
    }
  });

  it("B.19 an unknown kid makes agent-kit's verifier refetch the JWKS once and accept a rotated-in key", async () => {
    const provider = await HostileProvider.start();
    try {
      const verifier = idTokenVerifier({
        jwksUri: `${provider.issuer}/jwks`,
        issuer: provider.issuer,
        clientId: provider.clientId,
        cooldownMs: 0,
      });
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: provider.issuer, sub: "u", aud: provider.clientId, exp: now + 600, iat: now };
      await verifier.verify(await provider.sign(claims));
      expect(provider.calls.jwks).toBe(1);
      provider.publishedKeys = 2;
      await verifier.verify(await provider.sign(claims, {}, provider.keys[1]));
      expect(provider.calls.jwks).toBe(2);
    } finally {
      await provider.close();
    }
  });

  it("B.22 a userinfo sub that differs from the ID token's is rejected", async () => {
    op.behaviour = { userinfoSub: "someone-else" };
    const { callback, signedIn } = await signIn();
    expect(callback.status).toBe(400);
    expect(signedIn).toBe(false);
  });
});

describe("configuration", () => {
  it("B.21 refuses to start when the discovered issuer differs from the configured one", async () => {
    op.discoveryIssuer = "https://impostor.example.com/api/auth";
    try {
      const db = await testStore("pglite");
      await expect(
        AgentKit.create({
          marketplaceUrl: op.base,
          allowInsecureMarketplace: true,
          agentId: "a",
          agentSlug: "a",
          clientId: op.clientId,
          baseURL: agentUrl,
          secret: SECRET,
          storage: db.storage,
        }),
      ).rejects.toThrow(/issuer.*refusing to start/);
      await db.close();
    } finally {
      op.discoveryIssuer = undefined;
    }
  });

  it("names every invalid option, and refuses an http marketplace unless explicitly allowed", async () => {
    const db = await testStore("pglite");
    const valid = {
      marketplaceUrl: "https://m.example.com",
      agentId: "a",
      agentSlug: "a",
      clientId: "c",
      baseURL: "https://agent.example.com",
      secret: SECRET,
      storage: db.storage,
    };
    try {
      const invalid = AgentKit.create({ ...valid, agentId: "", baseURL: "nope", secret: "short" });
      await expect(invalid).rejects.toThrow(AgentKitConfigError);
      await expect(invalid).rejects.toThrow(/agentId[\s\S]*baseURL[\s\S]*secret/);
      await expect(AgentKit.create({ ...valid, marketplaceUrl: "http://m.example.com" })).rejects.toThrow(
        /marketplaceUrl: must be https/,
      );
      await expect(
        AgentKit.create({ ...valid, marketplaceInternalUrl: "http://marketplace:4000" }),
      ).rejects.toThrow(/marketplaceInternalUrl: must be https/);
      const { storage: _storage, ...withoutStorage } = valid;
      await expect(AgentKit.create(withoutStorage as never)).rejects.toThrow(/storage: required/);
    } finally {
      await db.close();
    }
  });
});
