/** The final `npm run stress` report as a text table (the JSON form is the object itself). */
import { fixed, formatTable } from './table.js';
import type { ViewerSummary } from './viewer-summary.js';
import type { Quantiles } from './percentile.js';
import type { UsageFigures } from './server-usage.js';

export interface ReportView {
  date: string;
  streamKbps: number;
  windowS: number;
  summary: ViewerSummary;
  latencyMs: Quantiles;
  latencyMethod: string;
  server: UsageFigures | undefined;
  publisherErrors: Record<string, number>;
}

export function formatStressReport(r: ReportView): string {
  const s = r.summary;
  const rows: (string | number | undefined)[][] = [
    ['viewers (by protocol)', `${s.viewers} (${Object.entries(s.byProtocol).map(([k, v]) => `${k} ${v}`).join(', ') || '-'})`],
    ['connected', s.connected],
    ['healthy (>= 90 % of stream bytes)', `${s.healthy} = ${(s.healthyShare * 100).toFixed(1)} %`],
    ['stream bitrate (kb/s)', fixed(r.streamKbps)],
    ['aggregate Mb/s (window)', fixed(s.mbps, 1)],
    ['measurement window (s)', fixed(r.windowS, 1)],
    ['TTFB p50 / p95 (ms)', `${fixed(s.ttfbMs.p50) ?? '-'} / ${fixed(s.ttfbMs.p95) ?? '-'}`],
    ['TTFF p50 / p95 (ms)', `${fixed(s.ttffMs.p50) ?? '-'} / ${fixed(s.ttffMs.p95) ?? '-'}`],
    ['latency p50 / p95 (ms)', `${fixed(r.latencyMs.p50) ?? '-'} / ${fixed(r.latencyMs.p95) ?? '-'} (${r.latencyMs.count} samples)`],
    ['stalls (viewers / total)', `${s.stalledViewers} / ${s.stalls}`],
    ['viewer errors', Object.entries(s.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'],
    ['publisher errors', Object.entries(r.publisherErrors).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'],
    ['server CPU % of a core', r.server ? `${fixed(r.server.cpuPercent, 1)} (${r.server.source})` : 'n/a (give --pid or --metrics)'],
    ['server RSS MB (end / peak)', r.server ? `${fixed(r.server.rssMB)} / ${fixed(r.server.peakRssMB)}` : 'n/a'],
  ];
  return [`onair stress report, ${r.date}`, formatTable(['figure', 'value'], rows), `latency method: ${r.latencyMethod}`].join('\n');
}
