import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MARKETPLACE_NODE_FLAGS, marketplaceNodeOptions } from "../src/node-options.ts";

const root = new URL("../../../", import.meta.url);

describe("the marketplace's Node flags", () => {
  it("the container image starts the server with them", () => {
    const dockerfile = readFileSync(new URL("deploy/marketplace.Dockerfile", root), "utf8");
    expect(dockerfile).toContain(`NODE_OPTIONS=${MARKETPLACE_NODE_FLAGS}`);
  });

  it("npm start and the benchmark start it with them", () => {
    for (const file of ["scripts/stack.ts", "bench/run.ts"])
      expect(readFileSync(new URL(file, root), "utf8")).toContain("NODE_OPTIONS: marketplaceNodeOptions()");
  });

  it("keeps an operator's own NODE_OPTIONS, after ours so that a flag given twice takes the operator's value", () => {
    expect(marketplaceNodeOptions("--enable-source-maps")).toBe(
      `${MARKETPLACE_NODE_FLAGS} --enable-source-maps`,
    );
    expect(marketplaceNodeOptions("--max-semi-space-size=32").split(" ").at(-1)).toBe(
      "--max-semi-space-size=32",
    );
    expect(marketplaceNodeOptions(undefined)).toBe(MARKETPLACE_NODE_FLAGS);
  });
});
