import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const base = { MARKETPLACE_DATA_DIR: "/tmp/amp-config-test" };

describe("configuration", () => {
  it("defaults to a local development setup on port 4000 with PGlite under the data directory", () => {
    const config = loadConfig(base);
    expect(config.port).toBe(4000);
    expect(config.baseUrl).toBe("http://localhost:4000");
    expect(config.issuer).toBe("http://localhost:4000/api/auth");
    expect(config.database).toEqual({ dataDir: "/tmp/amp-config-test/pg" });
    expect(config.tokens).toMatchObject({ accessTtl: 36_000, idTtl: 36_000, refreshReuseGrace: 0 });
    expect(config.crossOriginCookies).toBe(false);
  });

  it("names every invalid variable in one error", () => {
    const attempt = () =>
      loadConfig({ ...base, MARKETPLACE_PORT: "eighty", DATABASE_URL: "mysql://x", AUTH_SECRET: "short" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("MARKETPLACE_PORT");
      expect(message).toContain("DATABASE_URL");
      expect(message).toContain("AUTH_SECRET");
    }
  });

  it("production requires a secret and an https base URL", () => {
    expect(() => loadConfig({ ...base, NODE_ENV: "production" })).toThrow(
      /AUTH_SECRET[\s\S]*MARKETPLACE_BASE_URL/,
    );
    expect(() =>
      loadConfig({
        ...base,
        NODE_ENV: "production",
        AUTH_SECRET: "s".repeat(40),
        MARKETPLACE_BASE_URL: "http://x.example",
      }),
    ).toThrow(/https/);
  });

  it("refuses a JWKS grace period shorter than the ID token lifetime", () => {
    expect(() => loadConfig({ ...base, JWKS_GRACE_PERIOD_SECONDS: "60" })).toThrow(
      /JWKS_GRACE_PERIOD_SECONDS/,
    );
  });

  it("switches to cross-origin cookies when the UI lives on another origin", () => {
    const config = loadConfig({ ...base, MARKETPLACE_UI_ORIGIN: "https://app.example.com/" });
    expect(config.uiOrigin).toBe("https://app.example.com");
    expect(config.crossOriginCookies).toBe(true);
  });

  it("TRUST_PROXY is a hop count (true = 1, false = 0) and REDIS_URL must be a redis URL", () => {
    expect(loadConfig(base).trustProxy).toBe(0);
    expect(loadConfig({ ...base, TRUST_PROXY: "true" }).trustProxy).toBe(1);
    expect(loadConfig({ ...base, TRUST_PROXY: "false" }).trustProxy).toBe(0);
    expect(loadConfig({ ...base, TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(() => loadConfig({ ...base, TRUST_PROXY: "yes" })).toThrow(/TRUST_PROXY/);
    expect(loadConfig(base).redis).toBeUndefined();
    expect(loadConfig({ ...base, REDIS_URL: "redis://127.0.0.1:6379" }).redis).toEqual({
      url: "redis://127.0.0.1:6379",
      keyPrefix: "marketplace:",
    });
    expect(() => loadConfig({ ...base, REDIS_URL: "http://cache" })).toThrow(/REDIS_URL/);
  });

  it("F.8b-a an https base URL is a deployment whatever NODE_ENV says: AUTH_SECRET is required", () => {
    expect(() => loadConfig({ ...base, MARKETPLACE_BASE_URL: "https://market.example.com" })).toThrow(
      /AUTH_SECRET: required with an https MARKETPLACE_BASE_URL/,
    );
    const config = loadConfig({
      ...base,
      MARKETPLACE_BASE_URL: "https://market.example.com",
      AUTH_SECRET: "s".repeat(40),
    });
    expect(config).toMatchObject({ env: "development", deployed: true, devCheckout: false });
  });

  it("F.8b-b the development checkout is an explicit opt-in, off by default", () => {
    expect(loadConfig(base).devCheckout).toBe(false);
    expect(loadConfig({ ...base, DEV_CHECKOUT: "on" })).toMatchObject({ devCheckout: true, deployed: false });
    // Stripe configured: real checkout wins.
    expect(loadConfig({ ...base, DEV_CHECKOUT: "on", STRIPE_SECRET_KEY: "sk_test_x" }).devCheckout).toBe(
      false,
    );
  });

  it("F.8b-c DEV_CHECKOUT=on is a config error naming it behind https or in production", () => {
    const secret = { AUTH_SECRET: "s".repeat(40) };
    expect(() =>
      loadConfig({
        ...base,
        ...secret,
        DEV_CHECKOUT: "on",
        MARKETPLACE_BASE_URL: "https://market.example.com",
      }),
    ).toThrow(/DEV_CHECKOUT: the payment-free development checkout is refused/);
    expect(() =>
      loadConfig({
        ...base,
        ...secret,
        DEV_CHECKOUT: "on",
        NODE_ENV: "production",
        MARKETPLACE_BASE_URL: "https://market.example.com",
      }),
    ).toThrow(/DEV_CHECKOUT/);
  });
});
