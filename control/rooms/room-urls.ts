import type { OnairConfig } from '../../core/config/schema.js';

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

/** The full push URL: server + stream key (+ ?txSecret=&txTime= when signed). A secret: never log it. */
export function pushUrl(config: UrlConfig, streamKey: string, signed?: { txSecret: string; txTime: string }): string {
  const base = `${rtmpServerUrl(config)}/${streamKey}`;
  return signed ? `${base}?txSecret=${signed.txSecret}&txTime=${signed.txTime}` : base;
}

export interface PlayUrls {
  flv_url: string;
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
    hls_url: `http://${host}/${app}/${roomId}/index.m3u8${q}`,
    rtmp_url: `rtmp://${publicHost(config)}:${config.rtmp.port}/${app}/${roomId}${q}`,
    ws_url: `ws://${host}/${app}/${roomId}.flv${q}`,
  };
}
