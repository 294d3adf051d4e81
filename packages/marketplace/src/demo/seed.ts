import { and, eq } from "drizzle-orm";
import type { Auth } from "../auth/auth.ts";
import { applySpec } from "../catalog/spec.ts";
import type { Db } from "../db/database.ts";
import { pricingTiers, user, webhookEndpoints } from "../db/schema.ts";
import { createEndpoint } from "../events/service.ts";
import { activate, findLive } from "../subscriptions/service.ts";
import { ensureAdmin, OPERATOR_HEADERS } from "../users/service.ts";

export const DEMO = {
  admin: { email: "admin@example.com", password: "admin-password", name: "Platform Admin" },
  user: { email: "demo@example.com", password: "demo-password", name: "Demo User" },
  agentSlug: "kb-assistant",
} as const;

/**
 * The demo the README promises: a platform admin, a demo user, the
 * knowledge-base assistant registered with Free and Pro tiers and its three
 * metrics (rolling `messages`, fixed `knowledge-bases`, boolean `voice`),
 * and the demo user on Free. Idempotent.
 */
export async function seedDemo(auth: Auth, db: Db, opts: { agentOrigin: string; devCheckout: boolean }) {
  const { adminId, demoUserId } = await seedDemoUsers(auth, db);

  const agent = await applySpec(
    db,
    { payments: null, devCheckout: opts.devCheckout },
    {
      agent: {
        name: "Knowledge Base Assistant",
        slug: DEMO.agentSlug,
        tagline: "Ask questions about your documents and get cited answers.",
        description:
          "Upload notes and docs into knowledge bases; ask questions; answers quote their sources.",
        longDescription: null,
        iconUrl: null,
        photoUrls: [],
        status: "active",
        featured: true,
        isNew: true,
        productDomain: opts.agentOrigin,
        docsUrl: null,
        changelogUrl: null,
        redirectUris: [`${opts.agentOrigin}/api/auth/oauth2/callback/marketplace`],
        postLogoutRedirectUris: [`${opts.agentOrigin}/`],
      },
      metrics: [
        { slug: "messages", displayName: "Questions", unit: "questions", kind: "rolling" },
        { slug: "knowledge-bases", displayName: "Knowledge bases", unit: "knowledge bases", kind: "fixed" },
        { slug: "voice", displayName: "Voice replies", unit: "feature", kind: "fixed" },
      ],
      tiers: [
        {
          tierName: "Free",
          isFree: true,
          price: "0.00",
          currency: "USD",
          billingInterval: "month",
          featuresIncluded: ["Answers quote and cite your documents"],
          recommended: false,
          trialDays: 0,
          sortOrder: 0,
          quotas: { messages: 20, "knowledge-bases": 2, voice: 0 },
        },
        {
          tierName: "Pro",
          isFree: false,
          price: "19.00",
          currency: "USD",
          billingInterval: "month",
          featuresIncluded: ["Everything in Free", "Answers read aloud"],
          recommended: true,
          trialDays: 0,
          sortOrder: 1,
          quotas: { messages: 1000, "knowledge-bases": 20, voice: 1 },
        },
      ],
    },
    adminId,
  );

  if (!(await subscribeToFreeTier(db, demoUserId, agent.id)))
    throw new Error("the demo agent has no free tier");
  return { agent, adminId, demoUserId };
}

/**
 * The demo agent's webhook endpoint (`<agentOrigin>/api/marketplace/webhooks`, agent-kit's default
 * path), created unless it exists, and its current signing secret, which `serve --seed-demo` hands to
 * the demo agent (MARKETPLACE_WEBHOOK_SECRET in the demo env file) so the demo receives events out of
 * the box. Reads the stored secret instead of rotating: deliveries still pending from a previous run
 * keep verifying. Only for the local demo; real agents get their secret once (API, CLI). Idempotent.
 */
export async function ensureDemoWebhook(db: Db, agentId: string, agentOrigin: string, deployed: boolean) {
  const url = `${agentOrigin}/api/marketplace/webhooks`;
  const [found] = await db
    .select({ secret: webhookEndpoints.secret })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.agentId, agentId), eq(webhookEndpoints.url, url)));
  if (found) return { url, secret: found.secret };
  const created = await createEndpoint(db, agentId, { url, description: "demo agent (npm start)" }, deployed);
  return { url, secret: created.secret };
}

/** The demo admin and demo user (DEMO), created unless they exist. Idempotent. */
export async function seedDemoUsers(auth: Auth, db: Db) {
  const admin = await ensureAdmin(auth, db, DEMO.admin);
  const [existing] = await db
    .select({ id: user.id })
    .from(user)
    .where(eq(user.email, DEMO.user.email))
    .limit(1);
  const demoUserId =
    existing?.id ??
    (await auth.api.signUpEmail({ body: { ...DEMO.user }, headers: OPERATOR_HEADERS })).user.id;
  return { adminId: admin.id, demoUserId };
}

/**
 * Puts the user on the agent's free tier unless they already have a live
 * subscription to it. Returns false when the agent has no free tier.
 */
export async function subscribeToFreeTier(db: Db, userId: string, agentId: string): Promise<boolean> {
  if (await findLive(db, userId, agentId)) return true;
  const tiers = await db.select().from(pricingTiers).where(eq(pricingTiers.agentId, agentId));
  const free = tiers.find((t) => t.isFree && !t.archivedAt);
  if (!free) return false;
  await activate(db, { userId, agentId, tier: free });
  return true;
}
