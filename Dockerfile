# One image recipe for the three services; the SERVICE build argument picks which one the container runs:
#   docker build --build-arg SERVICE=registration .   (registration | deal-tracking | notification)
# The image runs the service's bundle (`npm run build`: the project's own TypeScript bundled by esbuild, npm
# packages left as imports from node_modules), which saves the memory that tsx keeps per process.

FROM node:24.21.0-bookworm-slim AS manifests
WORKDIR /src
COPY . .
# Only the manifests reach the install layer, so an edit to source code does not re-run npm ci.
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && for f in packages/*/package.json services/*/package.json infra/package.json; do \
      mkdir -p "/manifests/$(dirname "$f")" && cp "$f" "/manifests/$f"; \
    done

FROM node:24.21.0-bookworm-slim
WORKDIR /app
COPY --from=manifests /manifests/ ./
# Development dependencies included: esbuild builds the bundles.
RUN npm ci --include=dev --no-audit --no-fund && npm cache clean --force
COPY . .
RUN npm run build

# Late, so the three images share every layer above.
ARG SERVICE
RUN test -f "services/${SERVICE}/src/server.ts" \
  || { echo "build argument SERVICE must name a folder under services/, got '${SERVICE}'" >&2; exit 1; }
ENV SERVICE=${SERVICE} \
    NODE_ENV=production \
    HOST=0.0.0.0

USER node
# exec: node becomes PID 1 and receives SIGTERM itself, which starts the graceful shutdown.
# The node flags are serviceNodeFlags of infra/build/build-services.ts (checked by infra/test/compose.test.ts).
CMD ["sh", "-c", "exec node --max-semi-space-size=4 --max-old-space-size=768 --enable-source-maps \"services/$SERVICE/dist/server.mjs\""]
