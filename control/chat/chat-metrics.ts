import { Counter, Gauge, type Registry } from 'prom-client';

/** What a chat node counts, on /metrics (registered once per registry: several controls may share one in tests). */
export interface ChatMetrics {
  posts: Counter<'result'>;
  dropped: Counter<'reason'>;
}

export function chatMetrics(registry: Registry, read: { sockets(): number; frames(): number; deliveries(): number }): ChatMetrics {
  const get = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  get<Gauge>('onair_chat_sockets') ?? new Gauge({
    name: 'onair_chat_sockets', help: 'Open chat WebSockets on this control node', registers: [registry],
    collect() { this.set(read.sockets()); },
  });
  get<Gauge>('onair_chat_frames') ?? new Gauge({
    name: 'onair_chat_frames', help: 'Frames built by the room fan-out (one per room and event-loop turn) since start', registers: [registry],
    collect() { this.set(read.frames()); },
  });
  get<Gauge>('onair_chat_deliveries') ?? new Gauge({
    name: 'onair_chat_deliveries', help: 'Frames written to chat sockets since start', registers: [registry],
    collect() { this.set(read.deliveries()); },
  });
  const posts = get<Counter<'result'>>('onair_chat_posts_total') ?? new Counter({
    name: 'onair_chat_posts_total', help: 'Chat and danmaku posts by result (ok or the error code)', labelNames: ['result'] as const, registers: [registry],
  });
  const dropped = get<Counter<'reason'>>('onair_chat_sockets_dropped_total') ?? new Counter({
    name: 'onair_chat_sockets_dropped_total', help: 'Chat sockets closed by the server: slow consumer, heartbeat timeout', labelNames: ['reason'] as const, registers: [registry],
  });
  return { posts, dropped };
}
