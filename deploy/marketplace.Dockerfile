# The marketplace, run from its built package (the same tarballs `npm run pack:sdk` writes and
# e2e/sdk-quickstart.test.ts installs into an empty folder). Build from the repository root:
#   docker build -f deploy/marketplace.Dockerfile -t marketplace .
# Not built in this repository's CI (no Docker engine there); see docs/guides/packaging.md.

# 1. Compile contract, db, telemetry, agent-kit and marketplace to JavaScript, build the marketplace's web
#    app, and pack them.
FROM node:24-slim AS pack
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/contract/package.json packages/contract/
COPY packages/db/package.json packages/db/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/marketplace/package.json packages/marketplace/
COPY packages/agent-kit/package.json packages/agent-kit/
COPY apps/agent/package.json apps/agent/
COPY apps/marketplace-web/package.json apps/marketplace-web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts scripts
COPY packages packages
# The marketplace's web app is built by pack:sdk and ships inside its tarball (web/).
COPY apps/marketplace-web apps/marketplace-web
RUN npm run pack:sdk

# 2. Install the tarballs like any consumer would: plain JavaScript, public npm dependencies only.
FROM node:24-slim
# NODE_OPTIONS: SERVER_NODE_FLAGS in packages/marketplace/src/node-options.ts (a 16 MB young generation: ~100 MB less RSS under load).
ENV NODE_ENV=production MARKETPLACE_HOST=0.0.0.0 MARKETPLACE_PORT=4000 MARKETPLACE_DATA_DIR=/data \
    NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=pack /src/dist/packages /tmp/packages
RUN echo '{ "name": "marketplace-image", "private": true, "type": "module" }' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/packages/amp-contract-*.tgz /tmp/packages/amp-db-*.tgz \
      /tmp/packages/amp-telemetry-*.tgz /tmp/packages/amp-marketplace-*.tgz \
 && rm -rf /tmp/packages /root/.npm \
 && mkdir -p /data /shared && chown node:node /data /shared
USER node
# /data: the embedded database and generated secret when DATABASE_URL / AUTH_SECRET are unset.
# /shared: where `serve --seed-demo --demo-env-file` writes the demo agent's env (deploy/docker-compose.yml).
VOLUME /data
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:4000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Migrations run on boot (advisory-locked, safe with several replicas). Other commands:
#   docker run --rm -e DATABASE_URL=... marketplace node_modules/.bin/marketplace register-agent /agent.yaml
ENTRYPOINT ["node_modules/.bin/marketplace"]
CMD ["serve"]
