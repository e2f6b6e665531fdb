# syntax=docker/dockerfile:1
# One image for every role: `namesrv`, `broker`, `operator`, `admin …` (the rocketmq-ts CLI).
#   build:  scripts/container/build-image.sh   (buildah; or `docker build .`)
#   run:    podman run --network host rocketmq-ts:dev namesrv
# Behind a TLS-intercepting proxy, pass its CA bundle as the build secret `npm_ca`
# (`--secret id=npm_ca,src=/path/ca.pem`); it is used by the npm step only and is not kept.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca,target=/run/secrets/npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
# Sources; .dockerignore keeps tests, charts and local state out of the context.
COPY . .
# The runtime folders only (tsconfig.build.json): tests are not part of the image.
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production \
    LOG_LEVEL=info \
    UV_USE_IO_URING=0 \
    HOME=/home/rocketmq
WORKDIR /opt/rocketmq-ts
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The store and config paths the operator mounts; owned by the non-root runtime user (uid 1000).
RUN mkdir -p /home/rocketmq/store /home/rocketmq/logs /etc/rocketmq \
    && chown -R 1000:1000 /home/rocketmq /etc/rocketmq \
    && ln -s /opt/rocketmq-ts/dist/cli/index.js /usr/local/bin/rocketmq-ts
USER 1000:1000
VOLUME ["/home/rocketmq/store"]
EXPOSE 9876 10909 10911 10912
# Node runs as PID 1: every server installs its own SIGTERM/SIGINT handlers and exits cleanly,
# and none of them spawns children, so no init process is needed.
ENTRYPOINT ["node", "/opt/rocketmq-ts/dist/cli/index.js"]
CMD ["help"]
