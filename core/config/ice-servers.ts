/**
 * STUN/TURN servers for WebRTC (ONAIR_WEBRTC_ICE_SERVERS): the media engine's peers use them, and
 * WHEP/WHIP answers list them to the client in Link headers (RFC 9725 4.4), so a browser behind
 * NAT can find a path without configuring its own.
 */

export interface IceServer {
  /** stun:host:port or turn:host:port[?transport=udp|tcp] (turns: for TLS). */
  urls: string;
  username?: string;
  credential?: string;
}

const ICE_URL = /^(stun|stuns|turn|turns):(?:([^:@\s]+):([^@\s]+)@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/;

/**
 * Parses a comma-separated list: `stun:host:port` and `turn:user:password@host:port` (credentials
 * in the URL for configuration only: they travel apart, as username and credential). Throws on a
 * malformed entry (the config check reports it).
 */
export function parseIceServers(list: string): IceServer[] {
  const out: IceServer[] = [];
  for (const raw of list.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = ICE_URL.exec(raw);
    if (!m) throw new Error(`not a stun:/turn: URL: ${raw.replace(/:[^:@]*@/, ':***@')}`);
    const [, scheme, user, pass, host, port, transport] = m;
    const urls = `${scheme}:${host}${port ? `:${port}` : ''}${transport ?? ''}`;
    if (scheme!.startsWith('turn') && !user) throw new Error(`a TURN server needs user:password@: ${urls}`);
    out.push(user ? { urls, username: decodeURIComponent(user), credential: decodeURIComponent(pass!) } : { urls });
  }
  return out;
}

const quoted = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/** The Link header value of a WHEP/WHIP answer: one `rel="ice-server"` link per server. */
export function iceServersLink(servers: readonly IceServer[]): string | undefined {
  if (servers.length === 0) return undefined;
  return servers
    .map((s) => {
      let link = `<${s.urls}>; rel="ice-server"`;
      if (s.username !== undefined) link += `; username=${quoted(s.username)}; credential=${quoted(s.credential ?? '')}; credential-type="password"`;
      return link;
    })
    .join(', ');
}
