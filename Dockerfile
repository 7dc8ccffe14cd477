# Serving image: the churn model's HTTP server on distroless Node 24.
# Stage 1 installs every dependency and bundles the server into dist/ (esbuild: one CommonJS file with
# the production dependencies inside, nothing else from node_modules is shipped). Stage 2 adds only the
# bundle and the model registry to a runtime with no shell and no package manager, running as uid
# 65532, writing nothing at run time (so it works with a read-only root filesystem).
# Base images are pinned by digest; bump them deliberately (Dependabot opens the pull requests).

FROM node:24-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553 AS build
WORKDIR /app
ENV npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no dependency runs code at install; the image's own Node 24 builds (the node@24
# devDependency only matters on machines whose Node is older).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY build.ts tsconfig.json ./
COPY lib ./lib
COPY functions ./functions
RUN node build.ts && mkdir -p /out/compile-cache

FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/owner/telco-churn-serving
LABEL org.opencontainers.image.title="telco-churn-serving" \
      org.opencontainers.image.description="Customer-churn predictions over REST (Hono on Node 24), model verified from the baked-in registry" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
WORKDIR /app
COPY --from=build /app/dist/main.cjs /app/dist/server.cjs ./dist/
COPY model-registry ./model-registry
# The compile cache is written now, by the runtime's own Node as the runtime user, so every cold
# start reads V8's compiled code instead of compiling the bundle (and never needs to write).
COPY --from=build --chown=65532:65532 /out/compile-cache /app/.compile-cache
# NODE_OPTIONS caps the V8 heap at half the chart's default 256 Mi memory limit, so the heap cannot grow
# into what request bodies and connections need (the chart sets it from resources.limits.memory).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=128 \
    NODE_COMPILE_CACHE=/app/.compile-cache \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODEL_REGISTRY=/app/model-registry
USER 65532:65532
RUN ["/nodejs/bin/node", "dist/main.cjs", "--prime-compile-cache"]
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (drains, then exits 0). 8 MiB semi-spaces keep RSS under
# batch load near 150 MiB instead of ~260 MiB. A 48 MiB initial old space (3/8 of the heap cap; the chart
# passes 3/16 of its memory limit) stops V8 from marking the old generation without pause under
# 1,000-customer batches: 710 full collections a minute before, 5 after, ~0.75x the CPU per batch, for
# 20-45 ms more cold start (README, decision log).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8"]
CMD ["--initial-old-space-size=48", "dist/main.cjs"]
