import { createAccessControl } from "better-auth/plugins/access";
import { adminAc, defaultStatements } from "better-auth/plugins/admin/access";

/**
 * Every action the marketplace authorises by role, in one table. The admin
 * plugin's own statements (user/session management) are extended with the
 * catalog, billing and usage actions, so a role's power is readable here
 * rather than scattered across route guards.
 */
export const statement = {
  ...defaultStatements,
  agent: ["create", "update", "delete", "publish", "list-all"],
  pricing: ["create", "delete"],
  metric: ["create", "update"],
  quota: ["set"],
  addon: ["grant", "revoke"],
  subscription: ["list-all", "cancel-any"],
  oauthClient: ["create", "update", "delete", "list"],
} as const;

export const ac = createAccessControl(statement);

export const roles = {
  platform_admin: ac.newRole({
    ...adminAc.statements,
    agent: ["create", "update", "delete", "publish", "list-all"],
    pricing: ["create", "delete"],
    metric: ["create", "update"],
    quota: ["set"],
    addon: ["grant", "revoke"],
    subscription: ["list-all", "cancel-any"],
    oauthClient: ["create", "update", "delete", "list"],
  }),
  org_admin: ac.newRole({
    user: ["list", "get"],
    agent: ["list-all"],
  }),
  org_member: ac.newRole({}),
};
