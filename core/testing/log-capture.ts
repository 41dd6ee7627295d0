import { pino, type Logger } from 'pino';

/** A real pino logger whose lines the test can read (parsed JSON objects), for tests that assert what gets logged. */
export function captureLogger(level = 'debug'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}
