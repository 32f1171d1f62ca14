# syntax=docker/dockerfile:1.7
# carbonscale images. TypeScript runs directly on Node 24 (type stripping), so there is no build step: the
# stages only install production dependencies and copy sources. Two final targets:
#   docker build --target operator     -t ghcr.io/carbonscale/carbonscale-operator:0.1.0 .
#   docker build --target model-server -t ghcr.io/carbonscale/carbonscale:0.1.0 .
# The operator image leaves onnxruntime-node out (only `serve`/`profile` load it); the model server image keeps
# it, trimmed to linux/x64. Sizes measured in docs/install.md. test/e2e/install runs the RUN and COPY steps of
# these stages outside Docker and starts both commands from the result.

ARG NODE_VERSION=24.21.0

# --- production dependencies, everything (onnxruntime-node included) ---
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# .npmrc: onnxruntime-node-install=skip (its CPU provider ships in the package; no CUDA download), engine-strict.
COPY package.json package-lock.json .npmrc ./
# The npm cache lives in a BuildKit cache mount, so it never lands in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- the operator's dependencies: no onnxruntime-node (and nothing only it needs) ---
FROM deps AS operator-deps
RUN --mount=type=cache,target=/root/.npm npm uninstall --no-save --omit=dev --no-audit --no-fund onnxruntime-node

# --- the model server's dependencies: onnxruntime-node's native binaries for linux/x64 only ---
FROM deps AS model-server-deps
RUN find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +

# --- final: the operator (distroless: no shell, no package manager, no build tools) ---
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS operator
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="carbonscale-operator" \
      org.opencontainers.image.description="Carbon-aware ML inference operator for Kubernetes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/carbonscale/carbonscale" \
      org.opencontainers.image.documentation="https://github.com/carbonscale/carbonscale/blob/main/docs/install.md" \
      org.opencontainers.image.vendor="carbonscale"
WORKDIR /app
COPY --from=operator-deps /app/node_modules ./node_modules
COPY package.json LICENSE ./
COPY operator/ ./operator/
# The one list of model URI schemes (the CRD's CEL rule and the run-time check are built from it); it imports only node:path.
COPY model-server/model-uri.ts ./model-server/model-uri.ts
COPY data/ ./data/
ENV NODE_ENV=production
# 65532 is distroless' "nonroot"; numeric so runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/operator/cli.ts"]
CMD ["operator"]

# --- final: the model server (`serve`) and profiler (`profile`) ---
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS model-server
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="carbonscale" \
      org.opencontainers.image.description="carbonscale model server (Open Inference Protocol v2, ONNX Runtime)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/carbonscale/carbonscale" \
      org.opencontainers.image.documentation="https://github.com/carbonscale/carbonscale/blob/main/docs/model-server.md" \
      org.opencontainers.image.vendor="carbonscale"
WORKDIR /app
COPY --from=model-server-deps /app/node_modules ./node_modules
COPY package.json LICENSE ./
COPY operator/ ./operator/
COPY model-server/ ./model-server/
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/operator/cli.ts"]
CMD ["serve", "--config", "/app/model-server/digits.config.json"]
