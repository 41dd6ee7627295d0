import type { Server } from 'node:http';
import { settleWithin } from './in-flight.js';

/**
 * Stops an HTTP server the graceful way: no new connections, idle keep-alive connections closed
 * at once, requests in progress allowed to finish until `deadline` (epoch ms), then whatever is
 * left is cut. Resolves with how many connections had to be cut (0: every request finished).
 */
export async function drainHttpServer(server: Server, deadline: number): Promise<number> {
  if (!server.listening) return 0;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A request that finishes leaves its keep-alive connection idle: close those as they appear.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  try {
    if (await settleWithin(closed, deadline - Date.now())) return 0;
    const left = await new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n ?? 0)));
    server.closeAllConnections();
    await settleWithin(closed, 1_000);
    return left;
  } finally {
    clearInterval(sweep);
  }
}
