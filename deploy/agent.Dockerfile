# The reference agent (API + built web app). Build from the repository root:
#   docker build -f deploy/agent.Dockerfile -t agent .
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contract/package.json packages/contract/
COPY packages/db/package.json packages/db/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/marketplace/package.json packages/marketplace/
COPY packages/agent-kit/package.json packages/agent-kit/
COPY apps/agent/package.json apps/agent/
COPY apps/marketplace-web/package.json apps/marketplace-web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages packages
COPY apps apps
RUN node_modules/.bin/vite build apps/agent/web

FROM node:24-slim
# NODE_OPTIONS: SERVER_NODE_FLAGS in packages/marketplace/src/node-options.ts (a 16 MB young generation).
ENV NODE_ENV=production AGENT_HOST=0.0.0.0 AGENT_PORT=3001 \
    NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/contract packages/contract
COPY --from=build /app/packages/db packages/db
COPY --from=build /app/packages/telemetry packages/telemetry
COPY --from=build /app/packages/agent-kit packages/agent-kit
COPY --from=build /app/apps/agent apps/agent
USER node
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:3001/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node_modules/.bin/tsx", "apps/agent/server/main.ts"]
