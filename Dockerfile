# One image recipe for the three services; the SERVICE build argument picks which one the image carries:
#   docker build --build-arg SERVICE=registration .   (registration | deal-tracking | notification)
# The build stage bundles every service (`npm run build`: the project's own TypeScript bundled by esbuild, npm
# packages left as imports from node_modules). The runtime stage holds that one service's bundle and the
# production dependencies of that service alone: no TypeScript, no embedded Postgres, no bench or test
# tooling, no compiler. infra/test/image.test.ts holds this file to those rules.

# The base image by digest (the multi-platform index of node:24.21.0-bookworm-slim), so a rebuild gets the
# same bytes; the tag beside it says which release the digest is. Every stage starts from it.
FROM node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6 AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

FROM base AS manifests
WORKDIR /src
COPY . .
# Only the manifests reach the install layers, so an edit to source code does not re-run npm ci.
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && for f in packages/*/package.json services/*/package.json infra/package.json; do \
      mkdir -p "/manifests/$(dirname "$f")" && cp "$f" "/manifests/$f"; \
    done

FROM base AS build
WORKDIR /src
COPY --from=manifests /manifests/ ./
# Development dependencies: esbuild and tsx build the bundles. No install scripts: the image's own Node runs
# the build, so the `node` package need not fetch a second one, and nothing here needs a native build.
RUN npm ci --include=dev --ignore-scripts && npm cache clean --force
COPY . .
RUN npm run build

FROM base AS runtime
WORKDIR /app
ARG SERVICE
RUN test -n "${SERVICE}" \
  || { echo "build argument SERVICE must name a folder under services/" >&2; exit 1; }
COPY --from=manifests /manifests/ ./
# The service's production dependencies only (its devDependencies and every other workspace's stay out);
# none of them needs an install script.
RUN npm ci --omit=dev --workspace "services/${SERVICE}" --ignore-scripts && npm cache clean --force
COPY --from=build /src/services/${SERVICE}/dist/ ./services/${SERVICE}/dist/
RUN test -f "services/${SERVICE}/dist/server.mjs" \
  || { echo "build argument SERVICE must name a folder under services/, got '${SERVICE}'" >&2; exit 1; }
# One port inside every container, whichever service it runs, so the health check below needs no table of
# the services' own defaults; compose and Kubernetes set PORT to the service's port anyway.
ENV SERVICE=${SERVICE} \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
# serviceEnvironment of infra/build/build-services.ts (checked by infra/test/image.test.ts).
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080

# The base image's unprivileged user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# No curl in a slim image: the image's own node asks the liveness endpoint on the port the service listens on.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec: node becomes PID 1 and receives SIGTERM itself, which starts the graceful shutdown.
# The node flags are serviceNodeFlags of infra/build/build-services.ts (checked by infra/test/image.test.ts).
CMD ["sh", "-c", "exec node --max-semi-space-size=4 --max-old-space-size=768 \"services/$SERVICE/dist/server.mjs\""]
