import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, serverNodeOptions } from "../src/node-options.ts";

const root = new URL("../../../", import.meta.url);

const read = (file: string) => readFileSync(new URL(file, root), "utf8");
const count = (text: string, part: string) => text.split(part).length - 1;

describe("the servers' Node flags", () => {
  it("both container images start their server with them", () => {
    for (const file of ["deploy/marketplace.Dockerfile", "deploy/agent.Dockerfile"])
      expect(read(file)).toContain(`NODE_OPTIONS=${SERVER_NODE_FLAGS}`);
  });

  it("npm start and the benchmark start the marketplace and the agent with them", () => {
    for (const file of ["scripts/stack.ts", "bench/run.ts"])
      expect(count(read(file), "NODE_OPTIONS: serverNodeOptions()")).toBeGreaterThanOrEqual(2);
  });

  it("keeps an operator's own NODE_OPTIONS, after ours so that a flag given twice takes the operator's value", () => {
    expect(serverNodeOptions("--enable-source-maps")).toBe(`${SERVER_NODE_FLAGS} --enable-source-maps`);
    expect(serverNodeOptions("--max-semi-space-size=32").split(" ").at(-1)).toBe("--max-semi-space-size=32");
    expect(serverNodeOptions(undefined)).toBe(SERVER_NODE_FLAGS);
  });
});
