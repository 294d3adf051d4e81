#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createAuth } from "./auth/auth.ts";
import { emptyClaimSource } from "./auth/claims.ts";
import { createClient } from "./clients/service.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { createLogger } from "./http/logger.ts";
import { startMarketplace } from "./server.ts";
import { ensureAdmin, recordSignup } from "./users/service.ts";

const USAGE = `marketplace <command> [options]

Commands:
  serve                              start the marketplace (default)
  migrate                            apply database migrations and exit
  create-admin --email E --password P [--name N]
                                     create (or promote) a platform admin
  create-client --name N --redirect-uri URI [--redirect-uri URI ...]
                [--post-logout-redirect-uri URI ...] [--consent] [--confidential]
                                     register an OAuth client; prints its id (and secret, once)
`;

async function main(argv: string[]) {
  const [command = "serve", ...rest] = argv;
  if (command === "help" || command === "--help") return void console.log(USAGE);
  const config = loadConfig();

  if (command === "serve") {
    const running = await startMarketplace();
    const stop = async (signal: string) => {
      running.server.close();
      await running.close();
      console.log(`marketplace stopped (${signal})`);
      process.exit(0);
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));
    console.log(
      `\n  Marketplace ready at ${running.url}\n  Sign in:  ${running.url}/sign-in\n  Issuer:   ${running.config.issuer}\n`,
    );
    return;
  }

  const database = await openDatabase(config.database);
  try {
    await migrate(database.sql);
    if (command === "migrate") return void console.log("migrations applied");
    if (command === "create-admin") {
      const { values } = parseArgs({
        args: rest,
        options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
      });
      if (!values.email || !values.password)
        throw new UsageError("create-admin needs --email and --password");
      const auth = createAuth({
        config,
        dialect: database.authDialect,
        claims: emptyClaimSource,
        logger: createLogger(config.logLevel),
        onUserCreated: (user) => recordSignup(database.db, user),
      });
      const admin = await ensureAdmin(auth, database.db, {
        email: values.email,
        password: values.password,
        ...(values.name ? { name: values.name } : {}),
      });
      return void console.log(`${admin.created ? "created" : "promoted"} platform admin ${admin.email}`);
    }
    if (command === "create-client") {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: "string" },
          "redirect-uri": { type: "string", multiple: true },
          "post-logout-redirect-uri": { type: "string", multiple: true },
          consent: { type: "boolean", default: false },
          confidential: { type: "boolean", default: false },
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
      });
      console.log(`OAUTH_CLIENT_ID=${client.clientId}`);
      if (client.clientSecret) console.log(`OAUTH_CLIENT_SECRET=${client.clientSecret}`);
      return;
    }
    throw new UsageError(`unknown command: ${command}`);
  } finally {
    await database.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else console.error(error);
  process.exit(1);
});
