import type { OnairConfig } from '../../core/config/schema.js';
import { secureLinkHash } from '../../core/tokens/secure-link.js';

type UrlConfig = Pick<OnairConfig, 'host' | 'publicHost' | 'http' | 'rtmp'>;

/** The host put in URLs for clients: ONAIR_PUBLIC_HOST, else the bind host (a wildcard bind means localhost). */
export function publicHost(config: UrlConfig): string {
  const host = config.publicHost ?? config.host;
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** OBS "Server": rtmp://host:port/app */
export function rtmpServerUrl(config: UrlConfig): string {
  return `rtmp://${publicHost(config)}:${config.rtmp.port}/${config.rtmp.app}`;
}

/** WHIP ingest (a browser or OBS 30+): POST an SDP offer here with the stream key as the bearer token. */
export function whipUrl(config: UrlConfig, roomId: string): string {
  return `http://${publicHost(config)}:${config.http.port}/${config.rtmp.app}/${roomId}/whip`;
}

/** The full push URL: server + stream key (+ ?txSecret=&txTime= when signed). A secret: never log it. */
export function pushUrl(config: UrlConfig, streamKey: string, signed?: { txSecret: string; txTime: string }): string {
  const base = `${rtmpServerUrl(config)}/${streamKey}`;
  return signed ? `${base}?txSecret=${signed.txSecret}&txTime=${signed.txTime}` : base;
}

export interface PlayUrls {
  flv_url: string;
  /** WebRTC (WHEP): POST an SDP offer here (README "WebRTC"). */
  whep_url: string;
  hls_url: string;
  rtmp_url: string;
  ws_url: string;
}

/**
 * Play URLs by the public stream name (the room id), never the stream key. Without a token they are
 * a hint only: media refuses them until a token from /play-token is appended.
 */
export function playUrls(config: UrlConfig, roomId: string, token?: string): PlayUrls {
  const host = `${publicHost(config)}:${config.http.port}`;
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  const app = config.rtmp.app;
  return {
    flv_url: `http://${host}/${app}/${roomId}.flv${q}`,
    whep_url: `http://${host}/${app}/${roomId}/whep${q}`,
    hls_url: `http://${host}/${app}/${roomId}/index.m3u8${q}`,
    rtmp_url: `rtmp://${publicHost(config)}:${config.rtmp.port}/${app}/${roomId}${q}`,
    ws_url: `ws://${host}/${app}/${roomId}.flv${q}`,
  };
}

export interface EdgePlayUrls {
  edge_flv_url: string;
  edge_whep_url: string;
  edge_hls_url: string;
  edge_ws_url: string;
}

/**
 * Play URLs through the CDN-style edge (ONAIR_EDGE_URL, infra/nginx/edge.conf): the play token
 * plus an nginx secure link (`md5`, `expires`) over the stream path `/{app}/{room}`, which the edge
 * checks without calling back (one signature covers the FLV URL, the HLS playlist and its segments).
 * Undefined when no edge is configured.
 */
export function edgePlayUrls(
  config: Pick<OnairConfig, 'edge' | 'rtmp'>, roomId: string, token: string, expiresSec: number,
): EdgePlayUrls | undefined {
  const edge = config.edge;
  if (!edge?.url || !edge.secret) return undefined;
  const app = config.rtmp.app;
  const md5 = secureLinkHash({ uri: `/${app}/${roomId}`, expires: expiresSec, secret: edge.secret });
  const q = `?token=${encodeURIComponent(token)}&md5=${md5}&expires=${expiresSec}`;
  const base = edge.url;
  return {
    edge_flv_url: `${base}/${app}/${roomId}.flv${q}`,
    edge_whep_url: `${base}/${app}/${roomId}/whep${q}`,
    edge_hls_url: `${base}/${app}/${roomId}/index.m3u8${q}`,
    edge_ws_url: `${base.replace(/^http/, 'ws')}/${app}/${roomId}.flv${q}`,
  };
}
