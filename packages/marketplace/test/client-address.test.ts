import { describe, expect, it } from "vitest";
import { clientAddress } from "../src/http/client-address.ts";

describe("client address", () => {
  it("without trusted proxies it is the socket peer, whatever X-Forwarded-For says", () => {
    expect(clientAddress("192.0.2.10", "10.0.0.1", 0)).toBe("192.0.2.10");
    expect(clientAddress("::ffff:192.0.2.10", undefined, 0)).toBe("192.0.2.10");
  });

  it("behind N proxies it is the entry the outermost trusted proxy appended; entries further left never count", () => {
    expect(clientAddress("10.0.0.2", "6.6.6.6, 203.0.113.5", 1)).toBe("203.0.113.5");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1", 2)).toBe("203.0.113.5");
    expect(clientAddress("10.0.0.2", ["6.6.6.6", "203.0.113.5"], 1)).toBe("203.0.113.5");
  });

  it("a hop that is not an address stops at the last trustworthy one; no header means the peer", () => {
    expect(clientAddress("10.0.0.2", "203.0.113.5, not-an-ip", 2)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", undefined, 1)).toBe("10.0.0.2");
    expect(clientAddress(undefined, undefined, 1)).toBeUndefined();
  });
});
