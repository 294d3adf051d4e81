import { type Context, Hono } from "hono";
import type { Auth } from "../auth/auth.ts";
import { findAgent } from "../catalog/service.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import { findTier, toTierDto } from "../pricing/service.ts";
import type { DevCheckout } from "../subscriptions/dev-checkout.ts";
import { activate } from "../subscriptions/service.ts";
import { ErrorPage } from "./auth-pages.tsx";
import { DevCheckoutPage } from "./billing-pages.tsx";
import { issueCsrf, verifyCsrf } from "./csrf.ts";
import { page } from "./render.ts";

/**
 * The development checkout (server-rendered, a form with a CSRF token). The
 * catalog, agent pages (`/pricing/:slug` included) and the account page are
 * the web app's (web/routes.ts). After any checkout the browser lands on the
 * `returnUrl`; agents then poll `GET /me/subscriptions/:agentId` (see
 * CHECKOUT_POLL) until the webhook lands.
 */
export function billingPageRoutes(deps: {
  auth: Auth;
  config: Config;
  db: Db;
  devCheckout: DevCheckout | null;
}) {
  const { auth, config, db } = deps;
  const app = new Hono();
  const origin = new URL(config.baseUrl).origin;
  const csrf = (c: Context) => issueCsrf(c, config.baseUrl.startsWith("https://"));
  const session = (c: Context) => auth.api.getSession({ headers: c.req.raw.headers });
  const signInFirst = (c: Context) =>
    c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`, 303);
  app.get("/dev-checkout", async (c) => {
    const intent = deps.devCheckout?.read(c.req.query("token"));
    if (!intent)
      return page(
        c,
        <ErrorPage title="Checkout expired" message="Start again from the pricing page." />,
        400,
      );
    const who = await session(c);
    if (!who) return signInFirst(c);
    if (who.user.id !== intent.userId) {
      return page(
        c,
        <ErrorPage title="Wrong account" message="This checkout belongs to another account." />,
        403,
      );
    }
    const agent = await findAgent(db, intent.agentId);
    const tier = await findTier(db, intent.agentId, intent.tierId);
    return page(
      c,
      <DevCheckoutPage
        csrf={csrf(c)}
        token={c.req.query("token")!}
        agentName={agent.name}
        tier={toTierDto(tier)}
      />,
    );
  });

  app.post("/dev-checkout", async (c) => {
    const form = await c.req.parseBody();
    const intent = deps.devCheckout?.read(String(form.token ?? ""));
    const who = await session(c);
    if (!intent || !who || who.user.id !== intent.userId || !verifyCsrf(c, form.csrf, origin)) {
      return page(
        c,
        <ErrorPage title="Checkout expired" message="Start again from the pricing page." />,
        403,
      );
    }
    const tier = await findTier(db, intent.agentId, intent.tierId);
    await activate(db, { userId: intent.userId, agentId: intent.agentId, tier });
    return c.redirect(intent.returnUrl, 303);
  });

  // The account page of the web app replaced the server-rendered dashboard; old links keep working.
  app.get("/dashboard", (c) => c.redirect("/account", 301));

  return app;
}
