/**
 * Drizzle view of the marketplace database.
 *
 * The better-auth tables are created by migrations/0001_auth.sql (generated
 * from better-auth's own schema) and written by better-auth; only the columns
 * the marketplace itself reads or writes are declared here. The marketplace's
 * own tables are declared in full and created by the later migrations.
 */
import { bigserial, boolean, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const user = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull(),
  emailVerified: boolean("emailVerified").notNull(),
  image: text("image"),
  role: text("role"),
  banned: boolean("banned"),
  createdAt: ts("createdAt").notNull(),
  updatedAt: ts("updatedAt").notNull(),
});

export const oauthClient = pgTable("oauthClient", {
  id: text("id").primaryKey(),
  clientId: text("clientId").notNull(),
  clientSecret: text("clientSecret"),
  name: text("name"),
  disabled: boolean("disabled"),
  skipConsent: boolean("skipConsent"),
  enableEndSession: boolean("enableEndSession"),
  requirePKCE: boolean("requirePKCE"),
  tokenEndpointAuthMethod: text("tokenEndpointAuthMethod"),
  redirectUris: jsonb("redirectUris").$type<string[]>().notNull(),
  postLogoutRedirectUris: jsonb("postLogoutRedirectUris").$type<string[]>(),
  grantTypes: jsonb("grantTypes").$type<string[]>(),
  responseTypes: jsonb("responseTypes").$type<string[]>(),
  scopes: jsonb("scopes").$type<string[]>(),
  applicationType: text("applicationType"),
  createdAt: ts("createdAt"),
  updatedAt: ts("updatedAt"),
});

export const oauthAccessToken = pgTable("oauthAccessToken", {
  id: text("id").primaryKey(),
  token: text("token").notNull(),
  clientId: text("clientId").notNull(),
  userId: text("userId"),
  scopes: jsonb("scopes").$type<string[]>().notNull(),
  expiresAt: ts("expiresAt").notNull(),
  revoked: ts("revoked"),
});

export const interactions = pgTable(
  "interactions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("userId").references(() => user.id, { onDelete: "set null" }),
    type: text("type").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts("createdAt").notNull().defaultNow(),
  },
  (t) => [index("interactions_userId_idx").on(t.userId, t.createdAt)],
);
