import { z } from "zod";

/** Marketplace RBAC roles; every new user starts as `org_member`. */
export const ROLES = ["platform_admin", "org_admin", "org_member"] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;
export const DEFAULT_ROLE: Role = "org_member";

/** Scopes the identity provider understands (CONTRACT.md §2). */
export const SCOPES = {
  openid: "openid",
  profile: "profile",
  email: "email",
  role: "marketplace:role",
  installs: "marketplace:installs",
  agentTiers: "marketplace:agentTiers",
  offlineAccess: "offline_access",
  /** Platform-admin automation: only admin clients may be granted it, never an agent's client. */
  admin: "marketplace:admin",
} as const;
export const ALL_SCOPES = Object.values(SCOPES);
/** Every scope an agent's client may request (all but `marketplace:admin`). */
export const AGENT_CLIENT_SCOPES = ALL_SCOPES.filter((scope) => scope !== SCOPES.admin);

/** What agents normally ask for: everything but `marketplace:installs`. */
export const DEFAULT_AGENT_SCOPES = [
  SCOPES.openid,
  SCOPES.profile,
  SCOPES.email,
  SCOPES.role,
  SCOPES.agentTiers,
  SCOPES.offlineAccess,
] as const;

/** Custom claim names; each equals the scope that grants it. */
export const CLAIMS = {
  role: "marketplace:role",
  installs: "marketplace:installs",
  agentTiers: "marketplace:agentTiers",
} as const;

/** Token lifetimes of the contract, in seconds. */
export const TOKEN_LIFETIMES = {
  accessToken: 36_000,
  idToken: 36_000,
  authorizationCode: 600,
} as const;

/** `GET /me` on an agent and the profile agent-kit maps an ID token to. */
export const MarketplaceUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  image: z.string().nullable().optional(),
  marketplaceRole: RoleSchema,
});
export type MarketplaceUser = z.infer<typeof MarketplaceUserSchema>;

/** The marketplace's own view of the signed-in user (`GET /me`). */
export const MeDtoSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  image: z.string().nullable(),
  role: RoleSchema,
  createdAt: z.string(),
});
export type MeDto = z.infer<typeof MeDtoSchema>;

/** `POST /me`: the fields a user may change about themselves. Unknown fields are refused. */
export const UpdateMeBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    image: z
      .url({ protocol: /^https$/ })
      .max(2048)
      .nullable()
      .optional(),
  })
  .refine((v) => v.name !== undefined || v.image !== undefined, { message: "nothing to update" });
export type UpdateMeBody = z.infer<typeof UpdateMeBodySchema>;

/** A user as a platform admin sees it (`GET /admin/users`). */
export const AdminUserDtoSchema = MeDtoSchema.extend({ banned: z.boolean() });
export type AdminUserDto = z.infer<typeof AdminUserDtoSchema>;

/** Cursor pagination query shared by list endpoints. */
export const PageQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
