import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "packages/*/test/**/*.test.tsx",
      "apps/*/test/**/*.test.ts",
      "e2e/**/*.test.ts",
      "faults/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Each file boots its own marketplace (and database); two cores, so keep the fan-out modest.
    maxWorkers: 3,
  },
  oxc: { jsx: { runtime: "automatic", importSource: "hono/jsx" } },
});
