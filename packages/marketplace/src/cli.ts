#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DataDirBusyError } from "@amp/db";
import { asOperator } from "./audit/context.ts";
import { recordAudit } from "./audit/log.ts";
import { createAuth } from "./auth/auth.ts";
import { emptyClaimSource } from "./auth/claims.ts";
import { applySpec, parseSpec, SpecError } from "./catalog/spec.ts";
import { createClient } from "./clients/service.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { DEMO, ensureDemoWebhook, seedDemo } from "./demo/seed.ts";
import { dev } from "./dev.ts";
import {
  createEndpoint,
  deleteEndpoint,
  EndpointInputSchema,
  listDeliveries,
  listEndpoints,
  RotateInputSchema,
  replay,
  rotateSecret,
} from "./events/service.ts";
import { ApiError } from "./http/api-error.ts";
import { createLogger } from "./http/logger.ts";
import { StripePayments, StripeWebhookVerifier } from "./payments/payments.ts";
import { startMarketplace } from "./server.ts";
import { StripeWebhooks } from "./stripe/webhooks.ts";
import { ExistingAccountError, ensureAdmin, recordSignup } from "./users/service.ts";

const USAGE = `marketplace <command> [options]

Commands:
  dev --agent agent.yaml [--port N] [--data-dir DIR] [--write-env F]
                                     a development marketplace on embedded PGlite (DIR, default
                                     ./.marketplace): registers the agent, seeds the demo users,
                                     enables the development checkout, prints the agent's env lines
  serve [--seed-demo [--agent-origin URL] [--demo-env-file F]]
                                     start the marketplace (default); optionally seed the demo first
  migrate                            apply database migrations and exit
  create-admin --email E --password P [--name N]
                                     create a platform admin account
  create-admin --email E --promote [--password P]
                                     make an existing account a platform admin: its sessions are
                                     revoked; its password is kept unless --password sets it
  create-client --name N --redirect-uri URI [--redirect-uri URI ...]
                [--post-logout-redirect-uri URI ...] [--consent] [--confidential] [--admin]
                                     register a bare OAuth client; prints its id (and secret, once).
                                     --admin: an admin client that may be granted marketplace:admin
                                     (platform-admin automation; agents' clients never can)
  register-agent <file.json|file.yaml>
                                     register or update an agent with its metrics, tiers and quotas;
                                     prints AGENT_ID and OAUTH_CLIENT_ID as .env lines
  seed-demo [--agent-origin URL]     idempotently create the demo admin, user and agent
                                     (default agent origin http://localhost:3001)
  stripe:replay                      re-process Stripe events stored as failed
  webhooks:add <agentId> <url>       add a webhook endpoint; prints its signing secret once
  webhooks:list <agentId>            the agent's webhook endpoints
  webhooks:rotate <agentId> <endpointId> [--overlap-seconds N]
                                     new signing secret (printed once); the old one signs for N s
                                     more (default 86400)
  webhooks:remove <agentId> <endpointId>
  webhooks:deliveries <agentId> <endpointId> [--status pending|delivered|failed] [--limit N]
                                     the endpoint's delivery log, newest first
  webhooks:replay <agentId> <endpointId> (<deliveryId> | --failed)
                                     deliver again (the running marketplace picks it up)
  (register-agent files may list webhooks: [{ url }]; new endpoints' secrets are printed once)
`;

class UsageError extends Error {}

async function main(argv: string[]) {
  const [command = "serve", ...rest] = argv;
  if (command === "help" || command === "--help") return void console.log(USAGE);
  if (command === "dev") return dev(rest);
  const config = loadConfig();
  if (command === "serve") return serve(rest);

  const database = await openDatabase(config.database);
  try {
    await migrate(database.sql);
    // Every change an operator command makes is audited with the CLI as its actor.
    await asOperator(() => run(command, rest, config, database));
  } finally {
    await database.close();
  }
}

async function serve(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      "seed-demo": { type: "boolean", default: false },
      "agent-origin": { type: "string" },
      "demo-env-file": { type: "string" },
    },
  });
  if (values["seed-demo"]) assertDemoCheckout(loadConfig());
  const running = await startMarketplace();
  if (values["seed-demo"]) {
    const agentOrigin = (values["agent-origin"] ?? "http://localhost:3001").replace(/\/+$/, "");
    const { agent } = await asOperator(() =>
      seedDemo(running.auth, running.database.db, { agentOrigin, devCheckout: running.config.devCheckout }),
    );
    const webhook = await asOperator(() =>
      ensureDemoWebhook(running.database.db, agent.id, agentOrigin, running.config.deployed),
    );
    const lines = [
      `AGENT_ID=${agent.id}`,
      `MARKETPLACE_WEBHOOK_SECRET=${webhook.secret}`,
      `AGENT_SLUG=${agent.slug}`,
      `OAUTH_CLIENT_ID=${agent.oauthClientId}`,
      "OAUTH_CLIENT_SECRET=",
    ];
    if (values["demo-env-file"]) writeFileSync(values["demo-env-file"], `${lines.join("\n")}\n`);
  }
  const stop = async (signal: string) => {
    await running.close();
    console.log(`marketplace stopped (${signal})`);
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  console.log(
    `\n  Marketplace ready at ${running.url}\n  Sign in:  ${running.url}/sign-in\n  Issuer:   ${running.config.issuer}\n`,
  );
}

/** The demo's Pro tier is bought without Stripe, which only the opt-in development checkout allows. */
function assertDemoCheckout(config: Config) {
  if (!config.devCheckout && !config.stripe.secretKey)
    throw new ConfigError(
      "seed-demo needs DEV_CHECKOUT=on (or STRIPE_SECRET_KEY): the demo sells a paid tier",
    );
}

async function run(command: string, args: string[], config: Config, database: Database) {
  const auth = () =>
    createAuth({
      config,
      dialect: database.authDialect,
      sql: database.sql,
      locks: database.locks,
      claims: emptyClaimSource,
      logger: createLogger("warn"),
      onUserCreated: (user) => recordSignup(database.db, user),
    });
  const billingDeps = {
    payments: config.stripe.secretKey ? new StripePayments(config.stripe.secretKey) : null,
    devCheckout: config.devCheckout,
  };

  switch (command) {
    case "migrate":
      return void console.log("migrations applied");

    case "create-admin": {
      const { values } = parseArgs({
        args,
        options: {
          email: { type: "string" },
          password: { type: "string" },
          name: { type: "string" },
          promote: { type: "boolean", default: false },
        },
      });
      if (!values.email) throw new UsageError("create-admin needs --email");
      if (!values.password && !values.promote)
        throw new UsageError("create-admin needs --password (or --promote for an existing account)");
      const admin = await ensureAdmin(auth(), database.db, {
        email: values.email,
        promote: values.promote,
        ...(values.password ? { password: values.password } : {}),
        ...(values.name ? { name: values.name } : {}),
      });
      const lines = [
        admin.outcome === "created"
          ? `created platform admin ${admin.email}`
          : admin.outcome === "promoted"
            ? `promoted platform admin ${admin.email}`
            : `${admin.email} is already a platform admin`,
      ];
      if (admin.outcome !== "created")
        lines.push(admin.passwordSet ? "password: set to the one given" : "password: unchanged");
      if (admin.sessionsRevoked) lines.push("sessions: every existing session of this account was revoked");
      return void console.log(lines.join("\n"));
    }

    case "create-client": {
      const { values } = parseArgs({
        args,
        options: {
          name: { type: "string" },
          "redirect-uri": { type: "string", multiple: true },
          "post-logout-redirect-uri": { type: "string", multiple: true },
          consent: { type: "boolean", default: false },
          confidential: { type: "boolean", default: false },
          admin: { type: "boolean", default: false },
        },
      });
      if (!values.name || !values["redirect-uri"]?.length) {
        throw new UsageError("create-client needs --name and at least one --redirect-uri");
      }
      const client = await createClient(database.db, {
        name: values.name,
        redirectUris: values["redirect-uri"],
        postLogoutRedirectUris: values["post-logout-redirect-uri"] ?? [],
        skipConsent: !values.consent,
        confidential: values.confidential,
        admin: values.admin,
      });
      console.log(`OAUTH_CLIENT_ID=${client.clientId}`);
      if (client.clientSecret) console.log(`OAUTH_CLIENT_SECRET=${client.clientSecret}`);
      return;
    }

    case "register-agent": {
      const [file] = args;
      if (!file) throw new UsageError("register-agent needs a JSON or YAML file");
      const spec = parseSpec(readFileSync(file, "utf8"), file);
      const agent = await applySpec(database.db, { ...billingDeps, deployed: config.deployed }, spec, null);
      console.log(
        `AGENT_ID=${agent.id}\nAGENT_SLUG=${agent.slug}\nOAUTH_CLIENT_ID=${agent.oauthClientId}\nOAUTH_CLIENT_SECRET=`,
      );
      for (const hook of agent.newWebhooks)
        console.log(
          `# webhook ${hook.id} ${hook.url} (secret shown once)\nMARKETPLACE_WEBHOOK_SECRET=${hook.secret}`,
        );
      return;
    }

    case "seed-demo": {
      assertDemoCheckout(config);
      const { values } = parseArgs({ args, options: { "agent-origin": { type: "string" } } });
      const agentOrigin = (values["agent-origin"] ?? "http://localhost:3001").replace(/\/+$/, "");
      const { agent } = await seedDemo(auth(), database.db, { agentOrigin, devCheckout: config.devCheckout });
      console.log(
        [
          `AGENT_ID=${agent.id}`,
          `AGENT_SLUG=${agent.slug}`,
          `OAUTH_CLIENT_ID=${agent.oauthClientId}`,
          `# demo admin: ${DEMO.admin.email} / ${DEMO.admin.password}`,
          `# demo user:  ${DEMO.user.email} / ${DEMO.user.password}`,
        ].join("\n"),
      );
      return;
    }

    case "stripe:replay": {
      const verifier = config.stripe.webhookSecret
        ? new StripeWebhookVerifier(config.stripe.webhookSecret)
        : null;
      const result = await new StripeWebhooks(
        database.db,
        verifier,
        createLogger(config.logLevel),
      ).replayFailed();
      await recordAudit(database.db, {
        action: "stripe.replay",
        targetType: "stripe_events",
        targetId: null,
        after: result,
      });
      return void console.log(`replayed: ${result.processed} processed, ${result.failed} still failing`);
    }

    case "webhooks:add":
    case "webhooks:list":
    case "webhooks:rotate":
    case "webhooks:remove":
    case "webhooks:deliveries":
    case "webhooks:replay":
      return webhookCommand(command, args, config, database);

    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

/** `webhooks:*`: the same services as the admin API (docs/agent-events.md); answers are JSON. */
async function webhookCommand(command: string, args: string[], config: Config, database: Database) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "overlap-seconds": { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
      failed: { type: "boolean" },
    },
  });
  const [agentId, second, third] = positionals;
  if (!agentId) throw new UsageError(`${command} needs an agent id`);
  const db = database.db;
  const out = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  const needEndpoint = () => {
    if (!second) throw new UsageError(`${command} needs an endpoint id`);
    return second;
  };
  const number = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
    return n;
  };
  switch (command) {
    case "webhooks:add": {
      if (!second) throw new UsageError("webhooks:add needs a URL");
      const input = EndpointInputSchema.safeParse({ url: second });
      if (!input.success) throw new UsageError(`not a URL: ${second}`);
      return out(await createEndpoint(db, agentId, input.data, config.deployed));
    }
    case "webhooks:list":
      return out(await listEndpoints(db, agentId));
    case "webhooks:rotate": {
      const overlap = number("overlap-seconds", values["overlap-seconds"]);
      const input = RotateInputSchema.safeParse(overlap === undefined ? {} : { overlapSeconds: overlap });
      if (!input.success) throw new UsageError("--overlap-seconds must be between 0 and 604800");
      return out(await rotateSecret(db, agentId, needEndpoint(), input.data));
    }
    case "webhooks:remove":
      await deleteEndpoint(db, agentId, needEndpoint());
      return out({ deleted: true });
    case "webhooks:deliveries": {
      const status = values.status;
      if (status !== undefined && !["pending", "delivered", "failed"].includes(status))
        throw new UsageError("--status is pending, delivered or failed");
      return out(
        await listDeliveries(db, agentId, needEndpoint(), {
          limit: Math.min(number("limit", values.limit) ?? 50, 500),
          ...(status ? { status: status as "pending" | "delivered" | "failed" } : {}),
        }),
      );
    }
    case "webhooks:replay": {
      const endpointId = needEndpoint();
      if (!values.failed && !third) throw new UsageError("webhooks:replay needs a delivery id or --failed");
      return out({ replayed: await replay(db, agentId, endpointId, values.failed ? "failed" : third!) });
    }
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    error instanceof SpecError ||
    error instanceof ExistingAccountError ||
    error instanceof DataDirBusyError
  )
    console.error(error.message);
  else if (error instanceof ApiError) console.error(`${error.code}: ${error.message}`);
  else if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else console.error(error);
  process.exit(1);
});
