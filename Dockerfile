# syntax=docker/dockerfile:1
# Presently's container image. Two stages: `build` compiles TypeScript, bundles the dashboard (ui/, with esbuild) and
# packs the same tarball `npm pack` makes;
# the runtime stage installs that tarball's production dependencies (the versions of package-lock.json) and nothing
# else. See docs/operations/container.md. test/ship/container.test.ts runs this file's install and start steps
# (the RUN lines after the runtime stage's WORKDIR, then ENTRYPOINT + CMD and the HEALTHCHECK) in a clean folder.

FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (better-sqlite3 is built in the runtime stage; esbuild runs from its
# platform package without its install script).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE CHANGELOG.md ./
COPY bin ./bin
COPY src ./src
COPY ui ./ui
COPY scripts ./scripts
RUN npm run build && npm pack --ignore-scripts && mv presently-*.tgz presently.tgz

FROM node:20-bookworm-slim
# tini as PID 1: forwards SIGTERM to node and reaps zombies (or run with `docker run --init`).
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/* \
  && mkdir /data && chown node:node /data
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /build/presently.tgz /build/package-lock.json ./
# The package as published, with the locked production dependencies. Only better-sqlite3's install script runs
# (it fetches or compiles its native module).
RUN --mount=type=cache,target=/root/.npm tar -xzf presently.tgz --strip-components=1 && rm presently.tgz \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3
USER node
VOLUME /data
EXPOSE 8080
ENV PRESENTLY_HOST=0.0.0.0 PRESENTLY_PORT=8080 PRESENTLY_DATA=/data
# node itself asks: the image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PRESENTLY_PORT||8080)+'/_presently/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/presently.js"]
CMD ["serve"]
