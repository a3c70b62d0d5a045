# tce: the emulator (default command) and the reference router (`node bin/tce.js router serve`), one image.
#   docker build -t tce .
#   docker run -e TCE_CONTROL_TOKEN=$(openssl rand -hex 16) -p 4510:4510 -v tce-data:/data tce
# test/docker.test.ts runs the build stage's RUN lines and the runtime CMD on the host: keep its parser in step.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs src/, not copied yet, so that this layer stays cached across
# source edits; better-sqlite3's own install script (it fetches its prebuilt binary) is then run by itself
RUN npm ci --ignore-scripts
RUN npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# the inspector page's bundler (esbuild), run by `npm run build` into dist/ui
COPY scripts ./scripts
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY bin ./bin
COPY fixtures ./fixtures
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the emulator's (and a SQLite router's) databases: a volume, writable by the unprivileged `node` user
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 4510 4520
# the slim image has no curl: node's fetch. /_emulator/health answers without the control token.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4510/_emulator/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Listening on every interface opens the control plane (/_emulator: API keys, reset) to whoever reaches the port,
# so TCE_CONTROL_TOKEN is required: without it the container stops at once, saying so. `exec`: node is PID 1 and
# gets SIGTERM from `docker stop`.
CMD ["sh", "-c", "exec node bin/tce.js serve --host 0.0.0.0 --port 4510 --db /data/emulator.sqlite --control-token \"${TCE_CONTROL_TOKEN:?set TCE_CONTROL_TOKEN: the emulator listens on 0.0.0.0 and its control plane needs a token}\""]
