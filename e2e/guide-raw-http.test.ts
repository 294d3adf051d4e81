/**
 * docs/guides/raw-http.md, executed: its agent.yaml registered with `marketplace dev --write-env
 * marketplace.env`, then every `raw-http:step` block, in order, in one bash process (set -euo pipefail,
 * so any failed check in the guide fails this test). The output is then compared with what the guide says
 * each step prints.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { DevProcess } from "../packages/marketplace/test/support/dev-process.ts";
import { docBlock } from "../packages/marketplace/test/support/doc-blocks.ts";
import { devMarketplaceFromSource } from "./stack.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const GUIDE = readFileSync(join(ROOT, "docs/guides/raw-http.md"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "amp-guide-raw-http-"));
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
for (const name of ["DATABASE_URL", "NODE_OPTIONS", "AUTH_SECRET"]) delete env[name];
let marketplace: DevProcess | undefined;

/** Every `<!-- raw-http:step -->` block, in document order. */
function steps(markdown: string): string[] {
  const out: string[] = [];
  const marker = "<!-- raw-http:step -->";
  for (let at = markdown.indexOf(marker); at >= 0; at = markdown.indexOf(marker, at + marker.length))
    out.push(docBlock(markdown.slice(at), "raw-http:step"));
  return out;
}

afterAll(async () => {
  await marketplace?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe("docs/guides/raw-http.md", () => {
  it("every curl step runs against marketplace dev and prints what the guide says", {
    timeout: 180_000,
  }, async () => {
    writeFileSync(join(folder, "agent.yaml"), docBlock(GUIDE, "raw-http:agent.yaml"));
    marketplace = await devMarketplaceFromSource(folder, env, ["--write-env", "marketplace.env"]);
    const script = ["set -euo pipefail", ...steps(GUIDE)].join("\n");
    expect(steps(GUIDE).length).toBeGreaterThanOrEqual(10);
    writeFileSync(join(folder, "guide.sh"), script);
    const { stdout } = await promisify(execFile)("bash", ["guide.sh"], { cwd: folder, env }).catch(
      (error: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`the guide failed (exit ${error.code}):\n${error.stdout}\n${error.stderr}`);
      },
    );

    const { MARKETPLACE_API_URL, DEMO_USER_EMAIL } = marketplace.env;
    const lines = stdout.split("\n");
    // 2: the browser came back to the registered redirect URI with code, state and iss.
    expect(lines[0]).toMatch(/^http:\/\/localhost:3001\/callback\?code=[^&]+&state=[^&]+&iss=/);
    // 4: the signature verified against the JWKS key, and the claims checks held.
    expect(stdout).toContain("Signature Verified Successfully\ntrue\n");
    // 5: userinfo.
    expect(stdout).toContain(`"email": "${DEMO_USER_EMAIL}"`);
    expect(stdout).toContain('"role": "org_member"');
    // 6: charged, a retry with the same clientReqId not charged again, the second message, then the cap.
    // 7: consume a project, release it, the repeated release counted once.
    // 8: the refreshed access token works.
    const statuses = lines.filter((l) => /^\d{3}$/.test(l));
    expect(statuses).toEqual(["200", "200", "200", "429", "200", "200", "200", "200"]);
    expect(stdout).toMatch(/"remaining": 0,\s+"resetsAt": "[^"]+",\s+"effectiveQuota": 2/);
    expect(stdout).toMatch(/"used": 0,\s+"remaining": 1/);
    expect(MARKETPLACE_API_URL).toMatch(/^http:\/\/localhost:\d+$/);
  });
});
