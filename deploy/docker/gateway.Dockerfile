# syntax=docker/dockerfile:1
# The API gateway. Build from the repository root (the workspaces share one lockfile):
#   docker build -f deploy/docker/gateway.Dockerfile -t mimascota/gateway .

# The base image: any Debian-based image with node 24, npm and a `node` user (1000); deploy/smoke.sh builds
# on a local one (--build-arg BASE_IMAGE=...) where no registry image can be pulled.
ARG BASE_IMAGE=node:24-slim

FROM ${BASE_IMAGE} AS deps
WORKDIR /app
# Only the manifests first, so the dependency layer is rebuilt only when they change. Every workspace's
# manifest is needed for `npm ci` to match the lockfile. Only the gateway's own dependencies are installed:
# the shared package's include PGlite, drizzle, pg, Kafka and nodemailer, which the gateway never loads (the
# shared modules it imports need only packages the gateway depends on; deploy/test checks the import graph).
# Installing one workspace leaves the shared package unlinked, so the link is made here.
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY services/auth/package.json services/auth/
COPY services/gateway/package.json services/gateway/
COPY services/profiles/package.json services/profiles/
RUN npm ci --omit=dev --workspace services/gateway \
 && ln -s ../../packages/shared node_modules/@mimascota/shared \
 && npm cache clean --force

FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/app/data
WORKDIR /app
# node_modules at the root and inside workspaces (npm nests a package there when versions differ); the
# @mimascota/* links resolve to the sources copied below.
COPY --from=deps /app ./
COPY packages/shared/src packages/shared/src
COPY services/gateway/src services/gateway/src
# The code is root-owned and read-only to the service; only DATA_DIR is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# node's own fetch: slim images carry no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (not npm), so SIGTERM reaches the service's graceful shutdown.
STOPSIGNAL SIGTERM
CMD ["node", "services/gateway/src/main.ts"]
