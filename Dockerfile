# One image for every role; compose.yaml picks the role with the command.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg python3 make g++ ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Plain JavaScript in dist/: the tsx loader would cost every process about 40 MB (scripts/build.mjs).
RUN node scripts/build.mjs
# As the npm scripts set it: fewer glibc malloc arenas for V8's and libuv's threads (~25 MB less RSS).
ENV ONAIR_HOST=0.0.0.0 ONAIR_DATA_DIR=/data MALLOC_ARENA_MAX=2
VOLUME /data
# The flags of `npm start` (package.json).
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=20", "dist/onair.js"]
