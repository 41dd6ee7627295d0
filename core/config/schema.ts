import { z } from 'zod';
import { parseIceServers } from './ice-servers.js';
import { parseDuration } from './duration.js';
import { parseS3Url, type S3Target } from './s3-url.js';
import { parseAddressList } from './cidr.js';
import { parseRate, type Rate } from './rate.js';

/** A duration from the environment ('3s', '10m') or a number of milliseconds. */
const duration = (fallback: string) =>
  z.union([z.number().int().nonnegative(), z.string()]).default(fallback).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    try {
      return parseDuration(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
/** A rate limit ('20/1m'; 'off'), or null when turned off. */
const rate = (fallback: string) =>
  z.union([z.string(), z.null()]).default(fallback).transform((v, ctx): Rate | null => {
    if (v === null) return null;
    try {
      return parseRate(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
/** A list of CIDR blocks or addresses ('10.0.0.0/8, ::1'); empty when unset. */
const addressList = () =>
  z.union([z.array(z.string()), z.string()]).default([]).transform((v, ctx) => {
    try {
      return parseAddressList(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
const bool = (fallback: boolean) =>
  z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])]).default(fallback)
    .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on');

/**
 * The whole configuration, grouped by role. Every key comes from an ONAIR_* environment variable
 * (see ENV_KEYS in load.ts and the table in README.md); the defaults run everything on one machine.
 */
export const configSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** The host name put into URLs handed to clients (push URL, play URLs). Defaults to `host`. */
  publicHost: z.string().optional(),
  dataDir: z.string().default('./data'),
  /** HMAC secret for JWTs, play tokens and stream-key signatures; generated into dataDir when unset. */
  secret: z.string().min(16).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  http: z.object({
    port: port(8080),
    bodyLimit: z.string().default('64kb'),
    /**
     * Proxies in front of control (the nginx edge): only a request from one of these has its
     * X-Forwarded-For read, for the callback and hook source allowlists. Empty: the TCP peer is the source.
     */
    trustedProxies: addressList(),
  }),
  /** Who may read /metrics (every role). */
  metrics: z.object({
    /** When set, /metrics requires `Authorization: Bearer <token>` (16+ characters). */
    token: z.string().min(16).optional(),
    /**
     * `host:port` (or a port on ONAIR_HOST) of a listener of its own that serves only /metrics
     * (and /healthz); the main HTTP port then answers 404 for /metrics. Unset: /metrics is on the main port.
     */
    address: z.string().optional(),
  }),
  /** Rate limits of the HTTP edge (README "Rate limits"); shared through Redis when ONAIR_REDIS_URL is set. */
  rateLimit: z.object({
    enabled: bool(true),
    /** Login attempts per client address, whatever their outcome (each costs a password hash). */
    login: rate('20/1m'),
    /** Consecutive failed logins of one username before it is locked; each further failure doubles the lock. */
    loginFreeFailures: z.coerce.number().int().min(1).max(1000).default(5),
    /** The first lock of a username; doubled by every further failure, up to loginLockMax. */
    loginLock: duration('1s'),
    loginLockMax: duration('15m'),
    /** Registrations per client address. */
    register: rate('10/1h'),
    /** Play tokens per client address (viewers behind one NAT share it: keep it generous). */
    playToken: rate('600/1m'),
    /** Likes per user and room (HTTP and chat socket together): each counts in discovery's hot score. */
    likes: rate('1000/10s'),
    /** Replay clip requests per user (a new clip is a copy of the source and an ffmpeg run in the control process). */
    clips: rate('30/1h'),
    /** Reports per user (each is a row in the operators' moderation queue). */
    reports: rate('30/1h'),
    /** Shares per user (each counts on the show's share total). */
    shares: rate('60/1h'),
    /** Chat sockets one user (or anonymous client address) may open in one room: each replays the room's kept history. */
    chatConnects: rate('30/1m'),
    /** Refused callback/hook requests (bad signature or secret, malformed) per source address; then 429 until the window ends. */
    receiverRefusals: rate('60/1m'),
  }),
  auth: z.object({
    jwtTtl: duration('7d'),
    adminUser: z.string().optional(),
    adminPassword: z.string().optional(),
    /** Shortest password accepted (Unicode characters, surrounding whitespace not counted); at least 8. */
    passwordMinLength: z.coerce.number().int().min(8).max(128).default(8),
  }),
  rtmp: z.object({
    port: port(1935),
    app: z.string().default('live'),
    /** A connection that has not been allowed to publish or play this long after it connected is dropped. */
    startTimeout: duration('10s'),
    /** RTMP connections at most; past it a new one displaces the oldest that is not yet publishing or playing. */
    maxConnections: z.coerce.number().int().min(1).default(10_000),
    /** RTMP connections from one address at most. */
    maxConnectionsPerIp: z.coerce.number().int().min(1).default(32),
    /** Slots of maxConnections that RTMP players may not take: kept for publishers. */
    publisherReserve: z.coerce.number().int().min(0).default(100),
  }),
  database: z.object({
    /** mysql://user:pass@host:port/db, or sqlite:/path/file.db; a SQLite file in dataDir when unset. */
    url: z.string().optional(),
  }),
  redis: z.object({
    url: z.string().optional(),
    /** Prefix of every Redis key (cache, bus, pub/sub), so deployments or test runs can share one Redis. Unset: the seed's bare names. */
    prefix: z.string().max(64).regex(/^[A-Za-z0-9:_-]*$/).optional(),
    /** A Redis command that takes longer fails (503 at the HTTP edge) instead of holding the request. */
    commandTimeout: duration('500ms'),
  }),
  /**
   * ONAIR_S3_URL: object storage on S3/MinIO (see s3-url.ts for the form); a folder under dataDir
   * when unset. `target` is the parsed URL; `url` stays for callers that read it raw.
   */
  s3: z.object({ url: z.string().optional() }).transform((v, ctx): { url?: string; target?: S3Target } => {
    if (!v.url) return { url: undefined, target: undefined };
    try {
      return { url: v.url, target: parseS3Url(v.url) };
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** How long SIGTERM/SIGINT waits for queued writes and in-flight work before closing the database anyway (logged). */
  shutdownTimeout: duration('10s'),
  live: z.object({
    /** How long a session survives its publisher dropping before it ends with close_method 3. */
    reconnectGrace: duration('10s'),
    /**
     * After the anchor ends the show (POST /live/close) the encoder's automatic reconnects are
     * refused (show_ended_by_anchor) this long, unless the anchor starts again (POST /live/start). 0: no hold.
     */
    closeHold: duration('2m'),
    playTokenTtl: duration('10m'),
    /**
     * Key of play tokens when it must differ from the secret: control and a separate media service
     * share it so media checks tokens itself (no call to control per viewer) without holding the
     * secret that also signs JWTs. Play tokens are signed with the secret when unset.
     */
    playTokenKey: z.string().min(32).optional(),
    pushUrlTtl: duration('24h'),
    /**
     * What a publish must show: `key` = the stream key (a txSecret/txTime, when given, must be valid
     * and unexpired); `signed` = the key plus a valid, unexpired txSecret/txTime from /live/start.
     */
    pushAuth: z.enum(['key', 'signed']).default('key'),
    /** A session whose media heartbeat is silent this long is ended by the reaper. */
    heartbeatTimeout: duration('30s'),
    /** How long a medium audit result blocks publishing. */
    auditPause: duration('30m'),
  }),
  /** Live chat and the audience (control/chat, control/audience, docs/chat-protocol.md). */
  chat: z.object({
    /** Anonymous viewers (no JWT) may read chat with an unbound play token and enter rooms; they never post. */
    anonymous: bool(true),
    /** Longest chat/danmaku text, in characters (after trimming). */
    maxLength: z.coerce.number().int().min(1).max(2000).default(200),
    /** Per user and room: this many posts per window, then a mute of `rateMute`. */
    rate: rate('3/2s'),
    rateMute: duration('10s'),
    /** Words refused or masked (comma-separated, case-insensitive). */
    words: z.union([z.array(z.string()), z.string()]).default([]).transform((v) =>
      (Array.isArray(v) ? v : v.split(',')).map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0)),
    /** `mask` replaces each listed word with asterisks; `refuse` rejects the message (code `message_refused`). */
    wordAction: z.enum(['mask', 'refuse']).default('mask'),
    /**
     * Anonymous chat sockets one client address may hold in one room on one node (0: no cap). Each is
     * an audience member of its own (the online count, the peak), so without a cap one anonymous
     * ticket opened in a loop filled a room's count; past it the upgrade is 429 `too_many_connections`.
     */
    anonymousPerAddress: z.coerce.number().int().min(0).default(16),
    /** A socket whose unsent bytes exceed this is closed (1013 slow consumer): memory per socket stays bounded. */
    maxBufferedBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** A viewer with no live socket (and no exit call) leaves the room this long after their last heartbeat. */
    heartbeatTimeout: duration('45s'),
    /** Server pings every socket this often; a socket that answered none within heartbeatTimeout is closed. */
    pingInterval: duration('15s'),
    /** Kept messages a reconnecting client can resume from, per room. */
    historySize: z.coerce.number().int().min(10).max(100_000).default(1000),
    /** Room conventions every socket gets after `welcome` (a `notice` with code `conventions`); none when unset. */
    conventions: z.string().max(1000).optional(),
    /** How long an /kick blocks re-entry unless the kick names a duration. */
    kickDuration: duration('10m'),
  }),
  callbacks: z.object({
    /** Key of Tencent Cloud CSS-style callback signatures: sign = MD5(key + t). */
    key: z.string().optional(),
    /** Key the media engine signs its HTTP callbacks with when it runs as its own service. */
    mediaKey: z.string().optional(),
    maxAttempts: z.coerce.number().int().min(1).max(20).default(3),
    /**
     * How far ahead a CSS callback's `t` (its expiry, the vendor sets send time + 10 min) may lie,
     * and how old an HMAC-signed callback's timestamp may be: a captured signature is good this long.
     */
    window: duration('11m'),
    /** Source networks the callback receiver accepts (CIDR list); empty: any. */
    allow: addressList(),
    /** live_events rows older than this are pruned (hourly); 0 keeps them forever. */
    eventsRetention: duration('7d'),
  }),
  hooks: z.object({
    /**
     * Shared secret external media servers put in the hook URL (`?secret=`). Hooks refuse every call
     * until this or hooks.allow (or, for onair's own media service, callbacks.mediaKey) is set.
     */
    secret: z.string().min(16).optional(),
    /** Source networks allowed to call /hook/* (CIDR list); when set, other sources are refused even with the secret. */
    allow: addressList(),
  }),
  /**
   * A CDN-style edge (infra/nginx/edge.conf) that checks playback URLs itself with nginx's
   * secure_link module: with both set, play-token answers add edge_flv_url, edge_hls_url and
   * edge_ws_url, signed for the stream path with the secret and expiring with the play token.
   * Optional in the type so configs built by hand need not name it; loadConfig always fills it.
   */
  edge: z.object({
    /** Base URL viewers reach the edge at: http(s)://host[:port], no path. */
    url: z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'must be http(s)://host[:port] without a path').optional(),
    /** The edge's secure_link secret: 16+ characters of A-Z a-z 0-9 _ - (it is written into nginx's config). */
    secret: z.string().min(16).regex(/^[A-Za-z0-9_-]+$/, 'may hold only A-Z a-z 0-9 _ -').optional(),
  }).optional(),
  media: z.object({
    /** How long the engine waits for a publish/play hook before refusing. */
    hookTimeout: duration('3s'),
    ffmpegPath: z.string().default('ffmpeg'),
    record: bool(false),
    /**
     * Where recordings live: the engine writes here, and a hook's on_dvr/record_done file is
     * accepted only inside it (after resolving symlinks). Default: dataDir/recordings.
     */
    recordingsDir: z.string().optional(),
    /** Cut recordings into files of about this much media (on keyframes); 0 = one file per publish. */
    recordSegment: duration('0'),
    /**
     * A recording left open by a media process of another host (its `.open` marker still there) is
     * closed out and announced once its file was untouched this long; this host's own are at start.
     */
    recordRecoverAfter: duration('10m'),
    hls: bool(true),
    /** A JPEG of each live stream's newest keyframe at /{app}/{name}/frame.jpg (home page cards, supervision wall); one keyframe-only ffmpeg per stream. */
    frames: bool(true),
    hlsSegment: duration('1s'),
    /**
     * Who cuts HLS segments: `inprocess` (the engine muxes MPEG-TS itself, H.264 + AAC, no child
     * process) or `ffmpeg` (one ffmpeg child per live stream, ~55 MB each; also carries other codecs).
     */
    hlsSegmenter: z.enum(['inprocess', 'ffmpeg']).default('inprocess'),
    idleTimeout: duration('10s'),
    /** A publish that sends no audio or video this long after it was allowed is dropped, never reported live. */
    firstMediaTimeout: duration('5s'),
    viewerQueueBytes: z.coerce.number().int().min(64 * 1024).default(4 * 1024 * 1024),
    viewerQueueTime: duration('5s'),
    statsInterval: duration('5s'),
    /**
     * How often viewer writes are coalesced and flushed: shorter means lower latency, longer means
     * fewer syscalls (CPU per viewer). A new viewer's start-up burst is always sent at once.
     */
    flushInterval: duration('100ms'),
    /**
     * Admission control: new viewers are refused (503 / RTMP NetStream.Play.Failed) while the
     * smoothed flush lag is over this. 0 (the default) derives it: three times flushInterval (a write
     * tick takes longer than the interval), at least 50 ms.
     */
    maxFlushLag: duration('0ms'),
    /**
     * HTTP-FLV and WS-FLV players of one stream from one client address (IPv6: its /64; behind
     * ONAIR_TRUSTED_PROXIES the address they name); past it 429. Each player counts as a viewer of
     * the room, so without it one token opened in a loop inflated a room's viewers and hot ranking.
     * Loopback is never capped (a local proxy, a load test). 0: no cap.
     */
    playersPerAddress: z.coerce.number().int().min(0).max(1_000_000).default(16),
    /** WHEP playback (POST /{app}/{name}/whep): WebRTC viewers, H.264 passed through, AAC -> Opus. */
    webrtc: bool(true),
    /** AAC -> Opus for WebRTC viewers: one ffmpeg per stream, started with its first WebRTC viewer; off = video only. */
    webrtcAudio: bool(true),
    /**
     * Load WebRTC (werift) and run it once on a throwaway loopback pair in the background at the
     * first publish, so the first WHEP viewer does not wait for it; off: it loads with the first offer.
     */
    webrtcWarm: bool(true),
    /**
     * Addresses WebRTC offers as ICE host candidates besides the machine's interfaces (werift leaves
     * loopback out by default), comma-separated: '127.0.0.1' for same-machine viewers, or the public
     * address of a host behind 1:1 NAT.
     */
    webrtcIceHosts: z.string().default('127.0.0.1').transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean)),
    /**
     * STUN/TURN servers, comma-separated: `stun:host:port`, `turn:user:password@host:port`. Media's
     * WebRTC peers use them (a server-reflexive or relayed candidate) and WHEP/WHIP answers hand them
     * to the client in Link headers. Empty: host candidates only.
     */
    webrtcIceServers: z.string().default('').transform((v, ctx) => {
      try {
        return parseIceServers(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
    /** UDP ports for WebRTC viewers as 'min-max' (open them in the firewall); empty: any free port. */
    webrtcPorts: z.string().regex(/^(\d{1,5}-\d{1,5})?$/).default('').transform((v) => {
      if (!v) return undefined;
      const [a, b] = v.split('-').map(Number) as [number, number];
      return [a, b] as [number, number];
    }),
    /** When media runs as its own service: control's base URL for hooks and signed event callbacks. */
    controlUrl: z.string().optional(),
    /** When control runs apart from media: media's base URL for its control API (kick, list). */
    serviceUrl: z.string().optional(),
  }),
  /** Gifts and the coin money model (README "Gifts, wallets and payments"). */
  gifts: z.object({
    /** The platform's share of every gift ('0.3', '30%'); the anchor earns the rest, rounded down to whole coins for the platform. */
    platformShare: z.union([z.number(), z.string()]).default('0.3').transform((v, ctx) => {
      const text = String(v).trim();
      const n = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a fraction 0..1 or a percentage 0%..100%' });
        return z.NEVER;
      }
      return Math.round(n * 10_000); // basis points: integer arithmetic on coins
    }),
    /** The same sender sending the same gift in a room again within this long grows one combo. */
    comboWindow: duration('5s'),
  }).prefault({}),
  payments: z.object({
    /** 'sandbox' (a simulated provider: coins for nothing, for demos and tests) or 'off' (no recharges). */
    provider: z.enum(['sandbox', 'off']).default('off'),
    /** Price of one coin in the currency's minor unit (fen, cents). */
    coinPrice: z.coerce.number().int().min(1).default(10),
    currency: z.string().regex(/^[A-Z]{3}$/).default('CNY'),
    /** Key of the sandbox provider's webhook signatures; derived from the secret when unset. */
    sandboxSecret: z.string().min(16).optional(),
    /** Where the sandbox provider delivers its webhooks; this process's own /api/v1/payments/webhook/sandbox when unset. */
    notifyUrl: z.string().url().optional(),
    /** How old a webhook's signed timestamp may be (and how far ahead) before it is refused as expired. */
    webhookTolerance: duration('5m'),
    /** A recharge order still `created` (never paid) this long after it was made becomes `expired`; a later payment webhook for it credits nothing (409 recharge_expired). */
    orderTtl: duration('30m'),
    /** payment_webhooks rows (the replay guard) older than this are pruned hourly; must exceed webhookTolerance (older deliveries are refused as expired anyway). 0 keeps them. */
    webhookRetention: duration('30d'),
  }).prefault({}),
  /** Notifications (control/notifications): go-live fan-out to followers and the live socket. */
  notifications: z.object({
    /** Followers written per multi-row INSERT (and per transaction) by the go-live fan-out; the event loop gets a turn between chunks. */
    fanoutBatch: z.coerce.number().int().min(1).max(10_000).default(1000),
    /** A fan-out job a node took and did not finish in this time is taken over by another node. */
    fanoutLease: duration('1m'),
    /** Server pings every notification socket this often; a socket that answered none by the next ping is closed. */
    pingInterval: duration('30s'),
    /** A show going live within this long after another show of the same anchor went live tells the followers nothing (0: every show does). */
    liveQuiet: duration('10m'),
    /** A ticket from POST /notifications/ws-ticket opens one notification socket within this long. */
    ticketTtl: duration('60s'),
  }).prefault({}),
  /** The transcoder role: recordings -> MP4 replays in object storage (transcoder/). */
  transcoder: z.object({
    /** Run the transcoder inside the all-in-one process (`npm start`); `npm run start:transcoder` ignores it. */
    enabled: bool(true),
    /** Keep the recorded FLV after its MP4 is uploaded and verified (default: delete it). */
    keepSource: bool(false),
    /** Keep a joined show's per-segment MP4s (default: removed once the joined MP4 is verified; posters stay). */
    keepSegments: bool(false),
    /**
     * Upload the MP4 while ffmpeg writes it (index reserved at the front with -moov_size, parts past
     * it sent during the remux; transcoder/transcode-job.ts). Off by default: on this project's 2-core
     * machine against s3rver it gained nothing over the classic remux-then-upload in three quiet runs
     * (docs/benchmarks.md, bench:transcode), the remux and the upload competing for the cores. Where the store is remote and the network is the limit, starting the upload ~2 s sooner
     * per hour can win: measure with `npm run bench:transcode`.
     */
    uploadDuringRemux: bool(false),
    /** Recordings remuxed at once by one process. */
    concurrency: z.coerce.number().int().min(1).max(32).default(1),
    /** A job a transcoder took and did not finish in this time is given to another (its lease on the bus). */
    lease: duration('10m'),
    /** Deliveries of one recording before it goes to the dead-letter queue with its last error. */
    maxAttempts: z.coerce.number().int().min(1).max(100).default(3),
    /** First retry delay of a failed job; doubles each attempt. */
    retryBackoff: duration('5s'),
    /** Longest one ffmpeg run may take before it is killed (a stuck input). */
    ffmpegTimeout: duration('30m'),
    ffprobePath: z.string().default('ffprobe'),
  }),
  replays: z.object({
    /** Replays older than this are deleted with their objects; 0 keeps them forever. */
    retention: duration('0'),
    /** Lifetime of a playback URL (presigned on S3, signed by onair on the local folder). */
    urlTtl: duration('1h'),
    /** How often the retention pruner runs. */
    pruneInterval: duration('1h'),
  }),
});

export type OnairConfig = z.infer<typeof configSchema>;

/** Checks that involve several keys; each message names the keys. */
export function validateConfig(config: OnairConfig): string[] {
  const problems: string[] = [];
  const ports = config.media.webrtcPorts;
  if (ports && !(ports[0] >= 1024 && ports[1] <= 65535 && ports[0] < ports[1])) {
    problems.push("'media.webrtcPorts' (ONAIR_WEBRTC_PORTS) must be 'min-max' with 1024 <= min < max <= 65535");
  }
  if ((config.auth.adminUser === undefined) !== (config.auth.adminPassword === undefined)) {
    problems.push("'auth.adminUser' (ONAIR_ADMIN_USER) and 'auth.adminPassword' (ONAIR_ADMIN_PASSWORD) must be set together");
  }
  if (config.auth.adminPassword !== undefined && config.auth.adminPassword.length < 8) {
    problems.push("'auth.adminPassword' (ONAIR_ADMIN_PASSWORD) must be at least 8 characters");
  }
  if (config.http.port !== 0 && config.http.port === config.rtmp.port) {
    problems.push("'http.port' and 'rtmp.port' must differ");
  }
  if (config.live.playTokenTtl < 10_000) problems.push("'live.playTokenTtl' must be at least 10s");
  if (config.callbacks.window < 1_000 || config.callbacks.window > 86_400_000) {
    problems.push("'callbacks.window' (ONAIR_CALLBACK_WINDOW) must be between 1s and 24h");
  }
  if (config.rtmp.publisherReserve >= config.rtmp.maxConnections) {
    problems.push("'rtmp.publisherReserve' (ONAIR_RTMP_PUBLISHER_RESERVE) must be less than 'rtmp.maxConnections' (ONAIR_RTMP_MAX_CONNECTIONS)");
  }
  if (config.metrics.address !== undefined && !/^(?:\[[^\]]+\]|[^:]*)?:?\d{1,5}$/.test(config.metrics.address.trim())) {
    problems.push("'metrics.address' (ONAIR_METRICS_ADDRESS) must be host:port, [v6]:port or a port");
  }
  if ((config.edge?.url === undefined) !== (config.edge?.secret === undefined)) {
    problems.push("'edge.url' (ONAIR_EDGE_URL) and 'edge.secret' (ONAIR_EDGE_SECRET) must be set together");
  }
  if (config.chat.heartbeatTimeout < 2_000) problems.push("'chat.heartbeatTimeout' (ONAIR_CHAT_HEARTBEAT_TIMEOUT) must be at least 2s");
  if (config.chat.pingInterval >= config.chat.heartbeatTimeout) {
    problems.push("'chat.pingInterval' (ONAIR_CHAT_PING_INTERVAL) must be less than 'chat.heartbeatTimeout' (ONAIR_CHAT_HEARTBEAT_TIMEOUT)");
  }
  // The replay guard must outlive the signature window: a pruned delivery could otherwise be sent again while its timestamp is still accepted.
  if (config.payments.webhookRetention > 0 && config.payments.webhookRetention <= config.payments.webhookTolerance) {
    problems.push("'payments.webhookRetention' (ONAIR_PAYMENT_WEBHOOK_RETENTION) must be 0 or more than 'payments.webhookTolerance' (ONAIR_PAYMENT_WEBHOOK_TOLERANCE)");
  }
  if (config.redis.commandTimeout < 10) problems.push("'redis.commandTimeout' (ONAIR_REDIS_TIMEOUT) must be at least 10ms");
  if (config.rateLimit.loginLock > config.rateLimit.loginLockMax) {
    problems.push("'rateLimit.loginLock' (ONAIR_LOGIN_LOCK) must not exceed 'rateLimit.loginLockMax' (ONAIR_LOGIN_LOCK_MAX)");
  }
  if (config.transcoder.lease < 1_000) problems.push("'transcoder.lease' (ONAIR_TRANSCODER_LEASE) must be at least 1s");
  if (config.replays.urlTtl < 1_000 || config.replays.urlTtl > 7 * 86_400_000) {
    problems.push("'replays.urlTtl' (ONAIR_REPLAY_URL_TTL) must be between 1s and 7d");
  }
  return problems;
}
