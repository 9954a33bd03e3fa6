# syntax=docker/dockerfile:1
#
# pachca-digest image: `docker build -t pachca-digest .`
#   docker run --rm -e PACHCA_TOKEN=… -v "$PWD:/config:ro" -v digest-state:/data pachca-digest run --http-port 9464
#   docker run --rm … pachca-digest run-job daily-sales
# The same image serves the Kubernetes CronJobs (`pachca-digest k8s`) and the daemon Deployment.

# ---- build: full dependencies, TypeScript compile, then drop dev dependencies ----------------
FROM node:20-slim AS build
WORKDIR /app

# better-sqlite3 downloads a prebuilt binary when one exists for this platform; the toolchain is
# the fallback (e.g. linux/arm/v7). It stays in this stage only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; native modules are
# built explicitly right after.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY templates ./templates
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies and compiled code only --------------------------------
FROM node:20-slim AS runtime
# A small young generation: about 40 MB less peak memory for the daemon at the same speed (BENCHMARKS.md).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=1 \
    PACHCA_DIGEST_CONFIG=/config/jobs.config.yaml \
    PACHCA_DIGEST_STATE=sqlite:/data/state.db
WORKDIR /app

# Code is owned by root and read-only for the service user; only /data is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/templates ./templates
# The chart font (charts never use system fonts; the slim image has none with Cyrillic).
COPY assets ./assets
RUN mkdir -p /data /config && chown node:node /data

# The `node` user of the official image (uid/gid 1000), matching runAsUser in the manifests.
USER node
VOLUME ["/data"]
EXPOSE 9464

ENTRYPOINT ["node", "/app/dist/bin/pachca-digest.js"]
CMD ["run", "--http-port", "9464"]
