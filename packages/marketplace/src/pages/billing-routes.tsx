import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { Auth } from "../auth/auth.ts";
import { findAgent, findAgentBySlug } from "../catalog/service.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import { agents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { findTier, listMetrics, listQuotas, listTiers, toTierDto } from "../pricing/service.ts";
import type { DevCheckout } from "../subscriptions/dev-checkout.ts";
import {
  activate,
  type CheckoutDeps,
  cancel,
  checkout,
  findLive,
  listSubscriptions,
} from "../subscriptions/service.ts";
import type { UsageService } from "../usage/service.ts";
import { ErrorPage } from "./auth-pages.tsx";
import { DashboardPage, DevCheckoutPage, PricingPage } from "./billing-pages.tsx";
import { issueCsrf, verifyCsrf } from "./csrf.ts";
import { page } from "./render.ts";

/**
 * Billing pages: `/pricing/:slug` (subscribe), the development checkout, and
 * `/dashboard` (subscriptions with usage bars, cancel). After any checkout
 * the browser lands on the agent's `returnUrl`; agents then poll
 * `GET /me/subscriptions/:agentId` (see CHECKOUT_POLL) until the webhook lands.
 */
export function billingPageRoutes(deps: {
  auth: Auth;
  config: Config;
  db: Db;
  usage: UsageService;
  checkout: CheckoutDeps;
  devCheckout: DevCheckout | null;
}) {
  const { auth, config, db } = deps;
  const app = new Hono();
  const origin = new URL(config.baseUrl).origin;
  const csrf = (c: Context) => issueCsrf(c, config.baseUrl.startsWith("https://"));
  const session = (c: Context) => auth.api.getSession({ headers: c.req.raw.headers });
  const signInFirst = (c: Context) =>
    c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`, 303);
  const failure = (c: Context, error: unknown) => {
    if (!(error instanceof ApiError)) throw error;
    return page(c, <ErrorPage title="That did not work" message={error.message} />, error.status as 400);
  };

  /** A form post from a signed-in user with a valid CSRF token; otherwise the answer to send instead. */
  async function signedInPost(c: Context) {
    const form = await c.req.parseBody();
    const who = await session(c);
    if (!who) return signInFirst(c);
    if (!verifyCsrf(c, form.csrf, origin)) {
      return page(c, <ErrorPage title="Form expired" message="Please try again." />, 403);
    }
    return { form, who };
  }

  async function renderPricing(c: Context, slug: string, error?: string) {
    const agent = await findAgentBySlug(db, slug, false);
    const who = await session(c);
    const [tiers, metrics, live] = await Promise.all([
      listTiers(db, agent.id),
      listMetrics(db, agent.id),
      who ? findLive(db, who.user.id, agent.id) : null,
    ]);
    const withQuotas = await Promise.all(
      tiers.map(async (tier) => ({ tier: toTierDto(tier), quotas: await listQuotas(db, agent.id, tier.id) })),
    );
    const returnUrl = c.req.query("returnUrl") ?? `${config.baseUrl}/dashboard`;
    return page(
      c,
      <PricingPage
        agent={agent}
        tiers={withQuotas}
        metrics={metrics}
        currentTierId={live?.t.id ?? null}
        signedIn={Boolean(who)}
        csrf={csrf(c)}
        returnUrl={returnUrl}
        error={error}
      />,
      error ? 400 : 200,
    );
  }

  app.get("/pricing/:slug", async (c) => {
    try {
      return await renderPricing(c, c.req.param("slug"));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.post("/pricing/:slug/subscribe", async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    const { form, who } = post;
    try {
      const agent = await findAgentBySlug(db, c.req.param("slug"), false);
      const result = await checkout(
        db,
        deps.checkout,
        { id: who.user.id, email: who.user.email },
        agent.id,
        String(form.tierId ?? ""),
        String(form.returnUrl ?? `${config.baseUrl}/dashboard`),
      );
      return c.redirect(result.status === "active" ? result.returnUrl : result.url, 303);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500)
        return renderPricing(c, c.req.param("slug"), error.message);
      return failure(c, error);
    }
  });

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

  app.get("/dashboard", async (c) => {
    const who = await session(c);
    if (!who) return signInFirst(c);
    const subs = (await listSubscriptions(db, who.user.id)).filter((s) => s.status !== "canceled");
    const rows = await Promise.all(
      subs.map(async (subscription) => {
        const [agent] = await db.select().from(agents).where(eq(agents.id, subscription.agentId));
        const usage = ["active", "trialing"].includes(subscription.status)
          ? await deps.usage.usage(who.user.id, subscription.agentId)
          : [];
        return {
          agentName: agent?.name ?? "Unknown agent",
          agentSlug: agent?.slug ?? "",
          subscription,
          usage,
        };
      }),
    );
    return page(c, <DashboardPage name={who.user.name} csrf={csrf(c)} rows={rows} />);
  });

  app.post("/dashboard/cancel/:agentId", async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    const { who } = post;
    try {
      await cancel(db, deps.checkout.payments, who.user.id, c.req.param("agentId"));
    } catch (error) {
      return failure(c, error);
    }
    return c.redirect("/dashboard", 303);
  });

  return app;
}
