/**
 * deploy/ cannot be built here (no Docker engine, so neither `docker build` nor `docker compose config`
 * runs). What can be checked without one is checked: every path the Dockerfiles COPY exists, the image
 * installs every tarball the marketplace needs, and the compose environment passes both services' own
 * config validation with the public issuer and the internal URL wired as intended.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig as loadAgentConfig } from "../apps/agent/server/config.ts";
import { loadConfig as loadMarketplaceConfig } from "../packages/marketplace/src/config.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const DOCKERFILES = ["deploy/marketplace.Dockerfile", "deploy/agent.Dockerfile"];

interface Service {
  environment: Record<string, string>;
  command?: string[];
  entrypoint?: string[];
}
const compose = parse(read("deploy/docker-compose.yml")) as { services: Record<string, Service> };

/** ENV lines of a Dockerfile's final stage. */
function finalStageEnv(dockerfile: string): Record<string, string> {
  const finalStage = dockerfile.split(/^FROM /m).at(-1) ?? "";
  const env: Record<string, string> = {};
  for (const line of finalStage.split("\n").filter((l) => l.startsWith("ENV ")))
    for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
  return env;
}

describe("deploy/", () => {
  it("every COPY source of the repository exists", () => {
    for (const file of DOCKERFILES) {
      for (const line of read(file).split("\n")) {
        const m = /^COPY (?!--from)(.+)$/.exec(line.trim());
        if (!m) continue;
        const sources = m[1]!.split(/\s+/).slice(0, -1);
        for (const source of sources) expect(existsSync(join(ROOT, source)), `${file}: ${source}`).toBe(true);
      }
    }
  });

  it("npm ci in each image sees every workspace's package.json (else it refuses the lockfile)", () => {
    const { workspaces } = JSON.parse(read("package.json")) as { workspaces: string[] };
    for (const file of DOCKERFILES)
      for (const ws of workspaces)
        expect(read(file), `${file}: ${ws}`).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it("the marketplace image installs the marketplace tarball and every @amp package it depends on", () => {
    const dockerfile = read("deploy/marketplace.Dockerfile");
    const manifest = JSON.parse(read("packages/marketplace/package.json")) as {
      dependencies: Record<string, string>;
    };
    const needed = [
      "@amp/marketplace",
      ...Object.keys(manifest.dependencies).filter((d) => d.startsWith("@amp/")),
    ];
    for (const name of needed)
      expect(dockerfile).toContain(`/tmp/packages/${name.slice(1).replace("/", "-")}-*.tgz`);
    expect(dockerfile).toContain("RUN npm run pack:sdk");
    expect(dockerfile).toMatch(/ENTRYPOINT \["node_modules\/\.bin\/marketplace"\]/);
  });

  it("compose: browsers and ID tokens use http://localhost:4000, the agent calls http://marketplace:4000", () => {
    const { marketplace, agent } = compose.services;
    const marketplaceEnv = {
      ...finalStageEnv(read("deploy/marketplace.Dockerfile")),
      ...marketplace!.environment,
    };
    const mp = loadMarketplaceConfig(marketplaceEnv);
    expect(mp.issuer).toBe("http://localhost:4000/api/auth");
    expect(mp.devCheckout).toBe(true);
    expect(mp.host).toBe("0.0.0.0");

    // The agent's settings: compose's environment plus the demo.env the marketplace writes (serve --seed-demo
    // --demo-env-file), as the agent's entrypoint reads it with --env-file.
    expect(marketplace!.command).toEqual(
      expect.arrayContaining(["--seed-demo", "--demo-env-file", "/shared/demo.env"]),
    );
    expect(agent!.entrypoint?.join(" ")).toContain("--env-file=/shared/demo.env");
    const demoEnv = {
      AGENT_ID: "a1",
      AGENT_SLUG: "kb-assistant",
      OAUTH_CLIENT_ID: "c1",
      OAUTH_CLIENT_SECRET: "",
    };
    const config = loadAgentConfig({
      ...finalStageEnv(read("deploy/agent.Dockerfile")),
      ...agent!.environment,
      ...demoEnv,
    });
    expect(`${config.marketplaceUrl}/api/auth`).toBe(mp.issuer);
    const internal = new URL(config.marketplaceInternalUrl!);
    expect(internal.hostname).toBe("marketplace"); // the compose service name
    expect(Number(internal.port)).toBe(mp.port);
  });
});
