/**
 * s3rver (with the test proxy of core/testing/s3-test-server.ts) in a process of its own, for the
 * benchmarks: a real S3 server is never in the uploader's process, and in one process s3rver's
 * request handling (Koa, its own MD5 of every part, joining the parts on completion) would share
 * one event loop with the client being measured.
 *
 * Run directly, it starts the server, prints `{"base":"http://KEY:SECRET@127.0.0.1:PORT","direct":...}` and
 * stops when its stdin closes (the parent exiting, however it exits).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startTestS3Server } from '../../core/testing/s3-test-server.js';

export interface S3rverProcess {
  /** ONAIR_S3_URL for `bucket` with the given query, through the test proxy (S3-style multipart ETags). */
  url(bucket: string, query?: string): string;
  /** The same straight to s3rver: no proxy hop (the adapter needs none, it never lists unfinished uploads). */
  directUrl(bucket: string, query?: string): string;
  close(): Promise<void>;
}

export async function startS3rverProcess(): Promise<S3rverProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const { base, direct } = await new Promise<{ base: string; direct: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as { base: string; direct: string });
      } catch (err) {
        reject(err as Error);
      }
    });
    child.once('exit', (code) => reject(new Error(`s3rver process exited (${code}) before it was ready`)));
  });
  return {
    url: (bucket, query = '') => `${base}/${bucket}${query ? `?${query}` : ''}`,
    directUrl: (bucket, query = '') => `${direct}/${bucket}${query ? `?${query}` : ''}`,
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end();
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s3 = await startTestS3Server();
  process.stdout.write(`${JSON.stringify({ base: s3.url('x').replace(/\/x$/, ''), direct: s3.directUrl('x').replace(/\/x$/, '') })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void s3.close().then(() => process.exit(0)));
}
