import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configSchema, validateConfig, type OnairConfig } from './schema.js';
import { ValidationError } from '../errors.js';

/** Environment variable -> config path. README.md documents each one; keep them in step. */
export const ENV_KEYS: Record<string, string> = {
  ONAIR_HOST: 'host',
  ONAIR_PUBLIC_HOST: 'publicHost',
  ONAIR_DATA_DIR: 'dataDir',
  ONAIR_SECRET: 'secret',
  ONAIR_LOG_LEVEL: 'logLevel',
  ONAIR_HTTP_PORT: 'http.port',
  ONAIR_BODY_LIMIT: 'http.bodyLimit',
  ONAIR_TRUSTED_PROXIES: 'http.trustedProxies',
  ONAIR_METRICS_TOKEN: 'metrics.token',
  ONAIR_METRICS_ADDRESS: 'metrics.address',
  ONAIR_RATE_LIMITS: 'rateLimit.enabled',
  ONAIR_RATE_LOGIN: 'rateLimit.login',
  ONAIR_LOGIN_FREE_FAILURES: 'rateLimit.loginFreeFailures',
  ONAIR_LOGIN_LOCK: 'rateLimit.loginLock',
  ONAIR_LOGIN_LOCK_MAX: 'rateLimit.loginLockMax',
  ONAIR_RATE_REGISTER: 'rateLimit.register',
  ONAIR_RATE_PLAY_TOKEN: 'rateLimit.playToken',
  ONAIR_RATE_CLIPS: 'rateLimit.clips',
  ONAIR_RATE_LIKES: 'rateLimit.likes',
  ONAIR_RATE_REPORTS: 'rateLimit.reports',
  ONAIR_RATE_SHARES: 'rateLimit.shares',
  ONAIR_RATE_CHAT_CONNECTS: 'rateLimit.chatConnects',
  ONAIR_RATE_RECEIVER_REFUSALS: 'rateLimit.receiverRefusals',
  ONAIR_PASSWORD_MIN_LENGTH: 'auth.passwordMinLength',
  ONAIR_REDIS_TIMEOUT: 'redis.commandTimeout',
  ONAIR_SHUTDOWN_TIMEOUT: 'shutdownTimeout',
  ONAIR_RTMP_PORT: 'rtmp.port',
  ONAIR_RTMP_APP: 'rtmp.app',
  ONAIR_RTMP_START_TIMEOUT: 'rtmp.startTimeout',
  ONAIR_RTMP_MAX_CONNECTIONS: 'rtmp.maxConnections',
  ONAIR_RTMP_MAX_CONNECTIONS_PER_IP: 'rtmp.maxConnectionsPerIp',
  ONAIR_RTMP_PUBLISHER_RESERVE: 'rtmp.publisherReserve',
  ONAIR_DATABASE_URL: 'database.url',
  ONAIR_REDIS_URL: 'redis.url',
  ONAIR_REDIS_PREFIX: 'redis.prefix',
  ONAIR_S3_URL: 's3.url',
  ONAIR_JWT_TTL: 'auth.jwtTtl',
  ONAIR_ADMIN_USER: 'auth.adminUser',
  ONAIR_ADMIN_PASSWORD: 'auth.adminPassword',
  ONAIR_RECONNECT_GRACE: 'live.reconnectGrace',
  ONAIR_LIVE_CLOSE_HOLD: 'live.closeHold',
  ONAIR_PLAY_TOKEN_TTL: 'live.playTokenTtl',
  ONAIR_PLAY_TOKEN_KEY: 'live.playTokenKey',
  ONAIR_PUSH_URL_TTL: 'live.pushUrlTtl',
  ONAIR_PUSH_AUTH: 'live.pushAuth',
  ONAIR_HEARTBEAT_TIMEOUT: 'live.heartbeatTimeout',
  ONAIR_AUDIT_PAUSE: 'live.auditPause',
  ONAIR_CALLBACK_KEY: 'callbacks.key',
  ONAIR_MEDIA_CALLBACK_KEY: 'callbacks.mediaKey',
  ONAIR_CALLBACK_MAX_ATTEMPTS: 'callbacks.maxAttempts',
  ONAIR_CALLBACK_WINDOW: 'callbacks.window',
  ONAIR_CALLBACK_ALLOW: 'callbacks.allow',
  ONAIR_LIVE_EVENTS_RETENTION: 'callbacks.eventsRetention',
  ONAIR_HOOK_SECRET: 'hooks.secret',
  ONAIR_HOOK_ALLOW: 'hooks.allow',
  ONAIR_HOOK_TIMEOUT: 'media.hookTimeout',
  ONAIR_FFMPEG_PATH: 'media.ffmpegPath',
  ONAIR_RECORD: 'media.record',
  ONAIR_RECORDINGS_DIR: 'media.recordingsDir',
  ONAIR_RECORD_SEGMENT: 'media.recordSegment',
  ONAIR_RECORD_RECOVER_AFTER: 'media.recordRecoverAfter',
  ONAIR_HLS: 'media.hls',
  ONAIR_FRAMES: 'media.frames',
  ONAIR_HLS_SEGMENT: 'media.hlsSegment',
  ONAIR_HLS_SEGMENTER: 'media.hlsSegmenter',
  ONAIR_MEDIA_IDLE_TIMEOUT: 'media.idleTimeout',
  ONAIR_FIRST_MEDIA_TIMEOUT: 'media.firstMediaTimeout',
  ONAIR_VIEWER_QUEUE_BYTES: 'media.viewerQueueBytes',
  ONAIR_VIEWER_QUEUE_TIME: 'media.viewerQueueTime',
  ONAIR_STATS_INTERVAL: 'media.statsInterval',
  ONAIR_FLUSH_INTERVAL: 'media.flushInterval',
  ONAIR_MEDIA_MAX_FLUSH_LAG: 'media.maxFlushLag',
  ONAIR_MEDIA_PLAYERS_PER_ADDRESS: 'media.playersPerAddress',
  ONAIR_WEBRTC: 'media.webrtc',
  ONAIR_WEBRTC_AUDIO: 'media.webrtcAudio',
  ONAIR_WEBRTC_WARM: 'media.webrtcWarm',
  ONAIR_WEBRTC_ICE_HOSTS: 'media.webrtcIceHosts',
  ONAIR_WEBRTC_PORTS: 'media.webrtcPorts',
  ONAIR_WEBRTC_ICE_SERVERS: 'media.webrtcIceServers',
  ONAIR_CONTROL_URL: 'media.controlUrl',
  ONAIR_MEDIA_URL: 'media.serviceUrl',
  ONAIR_GIFT_PLATFORM_SHARE: 'gifts.platformShare',
  ONAIR_GIFT_COMBO_WINDOW: 'gifts.comboWindow',
  ONAIR_PAYMENT_PROVIDER: 'payments.provider',
  ONAIR_COIN_PRICE: 'payments.coinPrice',
  ONAIR_PAYMENT_CURRENCY: 'payments.currency',
  ONAIR_PAYMENT_SANDBOX_SECRET: 'payments.sandboxSecret',
  ONAIR_PAYMENT_NOTIFY_URL: 'payments.notifyUrl',
  ONAIR_PAYMENT_WEBHOOK_TOLERANCE: 'payments.webhookTolerance',
  ONAIR_PAYMENT_ORDER_TTL: 'payments.orderTtl',
  ONAIR_PAYMENT_WEBHOOK_RETENTION: 'payments.webhookRetention',
  ONAIR_NOTIFY_FANOUT_BATCH: 'notifications.fanoutBatch',
  ONAIR_NOTIFY_FANOUT_LEASE: 'notifications.fanoutLease',
  ONAIR_NOTIFY_PING_INTERVAL: 'notifications.pingInterval',
  ONAIR_NOTIFY_LIVE_QUIET: 'notifications.liveQuiet',
  ONAIR_NOTIFY_TICKET_TTL: 'notifications.ticketTtl',
  ONAIR_EDGE_URL: 'edge.url',
  ONAIR_EDGE_SECRET: 'edge.secret',
  ONAIR_TRANSCODER: 'transcoder.enabled',
  ONAIR_RECORD_KEEP_SOURCE: 'transcoder.keepSource',
  ONAIR_REPLAY_KEEP_SEGMENTS: 'transcoder.keepSegments',
  ONAIR_TRANSCODER_UPLOAD_DURING_REMUX: 'transcoder.uploadDuringRemux',
  ONAIR_TRANSCODER_CONCURRENCY: 'transcoder.concurrency',
  ONAIR_TRANSCODER_LEASE: 'transcoder.lease',
  ONAIR_TRANSCODER_MAX_ATTEMPTS: 'transcoder.maxAttempts',
  ONAIR_TRANSCODER_RETRY_BACKOFF: 'transcoder.retryBackoff',
  ONAIR_FFMPEG_TIMEOUT: 'transcoder.ffmpegTimeout',
  ONAIR_FFPROBE_PATH: 'transcoder.ffprobePath',
  ONAIR_REPLAY_RETENTION: 'replays.retention',
  ONAIR_REPLAY_URL_TTL: 'replays.urlTtl',
  ONAIR_REPLAY_PRUNE_INTERVAL: 'replays.pruneInterval',
  ONAIR_CHAT_ANONYMOUS: 'chat.anonymous',
  ONAIR_CHAT_ANONYMOUS_PER_ADDRESS: 'chat.anonymousPerAddress',
  ONAIR_CHAT_MAX_LENGTH: 'chat.maxLength',
  ONAIR_CHAT_RATE: 'chat.rate',
  ONAIR_CHAT_RATE_MUTE: 'chat.rateMute',
  ONAIR_CHAT_WORDS: 'chat.words',
  ONAIR_CHAT_WORD_ACTION: 'chat.wordAction',
  ONAIR_CHAT_MAX_BUFFERED: 'chat.maxBufferedBytes',
  ONAIR_CHAT_HEARTBEAT_TIMEOUT: 'chat.heartbeatTimeout',
  ONAIR_CHAT_PING_INTERVAL: 'chat.pingInterval',
  ONAIR_CHAT_HISTORY: 'chat.historySize',
  ONAIR_KICK_DURATION: 'chat.kickDuration',
  ONAIR_CHAT_CONVENTIONS: 'chat.conventions',
};

type Tree = { [key: string]: unknown };

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Tree;
  node[parts.at(-1)!] = value;
}

/**
 * Builds the configuration from the environment (plus overrides, for tests), checks it once and
 * fills in the generated secret. Throws ValidationError naming every bad key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Tree = {}): OnairConfig {
  const raw: Tree = { http: {}, metrics: {}, rateLimit: {}, rtmp: {}, database: {}, redis: {}, s3: {}, auth: {}, live: {}, callbacks: {}, hooks: {}, edge: {}, media: {}, transcoder: {}, replays: {}, chat: {} };
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  for (const [section, value] of Object.entries(overrides)) {
    raw[section] = typeof value === 'object' && value !== null ? { ...(raw[section] as Tree), ...(value as Tree) } : value;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const envByPath = Object.fromEntries(Object.entries(ENV_KEYS).map(([k, v]) => [v, k]));
    const lines = parsed.error.issues.map((i) => {
      const path = i.path.join('.');
      return `'${path}'${envByPath[path] ? ` (${envByPath[path]})` : ''}: ${i.message}`;
    });
    throw new ValidationError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  const problems = validateConfig(config);
  if (problems.length) throw new ValidationError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  config.dataDir = resolve(config.dataDir);
  config.media.recordingsDir = resolve(config.media.recordingsDir ?? join(config.dataDir, 'recordings'));
  config.secret ??= loadOrCreateSecret(config.dataDir);
  return config;
}

/** The secret survives restarts (tokens stay valid) by living in the data folder, readable by its owner only. */
function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export type { OnairConfig };
