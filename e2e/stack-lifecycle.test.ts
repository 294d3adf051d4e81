import { describe, expect, it } from "vitest";
import { startStack } from "./stack.ts";

const reachable = (url: string) =>
  fetch(`${url}/ready`).then(
    () => true,
    () => false,
  );

describe("a stack started by a test", () => {
  it("stops its servers when the process that started it is gone (its stdin pipe closes)", {
    timeout: 120_000,
  }, async () => {
    const stack = await startStack();
    expect(await reachable(stack.marketplaceUrl)).toBe(true);
    expect(await reachable(stack.agentUrl)).toBe(true);
    await stack.orphan();
    // Both servers were children of the stack: they are gone with it, their ports closed.
    expect(await reachable(stack.marketplaceUrl)).toBe(false);
    expect(await reachable(stack.agentUrl)).toBe(false);
  });
});
