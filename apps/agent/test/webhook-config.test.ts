import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/config.ts";

const BASE = {
  OAUTH_CLIENT_ID: "c",
  AGENT_ID: "a",
  AGENT_SLUG: "s",
  AGENT_DATA_DIR: "/tmp/amp-agent-config-test",
};

describe("MARKETPLACE_WEBHOOK_SECRET", () => {
  it("unset: no secrets (webhooks not mounted); a list (rotation) is split and trimmed", () => {
    expect(loadConfig({ ...BASE, AUTH_SECRET: "x".repeat(32) }).webhookSecrets).toEqual([]);
    expect(
      loadConfig({
        ...BASE,
        AUTH_SECRET: "x".repeat(32),
        MARKETPLACE_WEBHOOK_SECRET: "whsec_bmV4dA==, whsec_b2xk",
      }).webhookSecrets,
    ).toEqual(["whsec_bmV4dA==", "whsec_b2xk"]);
  });

  it("a value that is not a whsec_ secret is refused at start-up, by name", () => {
    expect(() =>
      loadConfig({ ...BASE, AUTH_SECRET: "x".repeat(32), MARKETPLACE_WEBHOOK_SECRET: "hunter2" }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig({ ...BASE, AUTH_SECRET: "x".repeat(32), MARKETPLACE_WEBHOOK_SECRET: "hunter2" }),
    ).toThrow(/MARKETPLACE_WEBHOOK_SECRET/);
  });
});
