import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Outside production a missing AUTH_SECRET is generated once and kept in the
 * data directory (owner-only), so sessions and encrypted keys survive
 * restarts without anyone choosing a weak fixed value.
 */
export function dataDirSecret(dataDir: string): string {
  const file = `${dataDir}/auth-secret`;
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
