import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { CLIENT_IP_HEADER } from "../auth/auth.ts";

/**
 * The client's address, decided in one place: the socket peer, or — behind
 * `trustedHops` proxies that each append the address they saw to
 * X-Forwarded-For — the entry the outermost trusted proxy appended.
 * Entries further left are the client's own text and never count. A hop
 * that is not an IP address (a misconfigured proxy) stops the walk at the
 * last trustworthy one.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedHops: number,
): string | undefined {
  const forwarded = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  // Nearest first: the socket peer, then what each proxy appended, right to left.
  const chain = [peer, ...forwarded.reverse()];
  let address = peer && isIP(peer) ? peer : undefined;
  for (let i = 1; i <= Math.min(trustedHops, chain.length - 1); i++) {
    const hop = chain[i];
    if (!hop || !isIP(hop)) break;
    address = hop;
  }
  return address === undefined ? undefined : unmapIPv4(address);
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) is 192.0.2.1. */
const unmapIPv4 = (address: string) => {
  const v4 = address.toLowerCase().startsWith("::ffff:") ? address.slice(7) : address;
  return isIP(v4) === 4 ? v4 : address;
};

/**
 * Middleware: sets `clientAddress` for our own handlers and writes it into
 * the request header better-auth reads (sessions' ipAddress, its rate
 * limiter), replacing any copy the client sent. The server's Node request
 * (`c.env.incoming`, from @hono/node-server) is the only source; without it
 * (an in-process `app.request`) the header is removed and the address is
 * unknown.
 */
export function clientAddressMiddleware(trustedHops: number): MiddlewareHandler<AppEnv> {
  return async function clientAddressHandler(c, next) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const address = incoming
      ? clientAddress(incoming.socket.remoteAddress, incoming.headers["x-forwarded-for"], trustedHops)
      : undefined;
    const headers = c.req.raw.headers;
    headers.delete(CLIENT_IP_HEADER);
    if (address) headers.set(CLIENT_IP_HEADER, address);
    c.set("clientAddress", address);
    await next();
  };
}
