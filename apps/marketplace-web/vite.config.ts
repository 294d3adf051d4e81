import { defineConfig } from "vite";

/** The marketplace the dev server proxies API calls to (`npm run dev -w @amp/marketplace-web`). */
const marketplace = process.env.MARKETPLACE_URL ?? "http://localhost:4000";
const proxied = [
  "/api",
  "/me",
  "/agents",
  "/admin",
  "/sign-in",
  "/sign-up",
  "/consent",
  "/sign-out",
  "/dev-checkout",
];

export default defineConfig({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: "automatic", importSource: "react" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      // TanStack Query marks its modules "use client" (a React Server Components hint); irrelevant in a SPA.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    port: 5180,
    // API reads are fetches (Accept: application/json); page navigations stay with Vite.
    proxy: Object.fromEntries(
      proxied.map((path) => [
        path,
        {
          target: marketplace,
          bypass: (req: { headers: { accept?: string } }) =>
            req.headers.accept?.includes("text/html") && !path.startsWith("/sign") && path !== "/consent"
              ? "/index.html"
              : undefined,
        },
      ]),
    ),
  },
});
