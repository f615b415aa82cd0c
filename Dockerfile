# SimOps container images (needs a Docker engine: not on the development machines; see test/e2e/kind.sh).
#   docker build -t simops:dev .                    the controller and workers
#   docker build -t simops:dev-flows --target flows .   + Debian's Chromium, for workers that run browser flows
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/crds/*.yaml ./crds/
# git for GitSources; ssh for ssh:// sources; tini reaps git's and services' children.
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
USER node
ENTRYPOINT ["tini", "--", "node", "bin/simops.js"]
CMD ["controller", "--health-bind=0.0.0.0:8080"]

FROM runtime AS flows
USER root
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation \
  && rm -rf /var/lib/apt/lists/*
USER node
