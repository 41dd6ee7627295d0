/**
 * nginx-rtmp (Debian nginx + libnginx-mod-rtmp) as a benchmark peer: a generated config under a
 * temp prefix, one worker, RTMP on 127.0.0.1, no root, no daemon.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function nginxAvailable(): boolean {
  return existsSync(NGINX_RTMP_MODULE) && ['/usr/sbin/nginx', '/usr/bin/nginx'].some((p) => existsSync(p));
}

export function nginxRtmpConfig(prefix: string, rtmpPort: number): string {
  return `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 16000; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
    }
  }
}
`;
}

/** Writes the config and returns the nginx argv (without taskset). */
export function prepareNginx(prefix: string, rtmpPort: number): string[] {
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxRtmpConfig(prefix, rtmpPort));
  const bin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  return [bin, '-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')];
}
