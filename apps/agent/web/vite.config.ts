import { defineConfig } from "vite";

const agent = process.env.AGENT_URL ?? "http://localhost:3001";

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
    port: 5173,
    proxy: { "/api": agent, "/me": agent },
  },
});
