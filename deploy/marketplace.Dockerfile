# The marketplace. Build from the repository root:
#   docker build -f deploy/marketplace.Dockerfile -t marketplace .
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contract/package.json packages/contract/
COPY packages/db/package.json packages/db/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/marketplace/package.json packages/marketplace/
COPY packages/agent-kit/package.json packages/agent-kit/
COPY apps/agent/package.json apps/agent/
RUN npm ci --no-audit --no-fund

FROM node:24-slim
# NODE_OPTIONS: packages/marketplace/src/node-options.ts (a 16 MB young generation: ~100 MB less RSS under load).
ENV NODE_ENV=production MARKETPLACE_HOST=0.0.0.0 MARKETPLACE_PORT=4000 NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json ./
COPY packages/contract packages/contract
COPY packages/db packages/db
COPY packages/telemetry packages/telemetry
COPY packages/marketplace packages/marketplace
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:4000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Migrations run on boot (advisory-locked, safe with several replicas).
CMD ["node_modules/.bin/tsx", "packages/marketplace/src/cli.ts", "serve"]
