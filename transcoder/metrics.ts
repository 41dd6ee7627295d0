import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventBus } from '../core/event-bus/event-bus.port.js';
import type { Logger } from '../core/logging/logger.js';
import { cachedRead } from '../core/metrics/cached-read.js';

/** The transcoder's figures: jobs by outcome, time per stage, bytes uploaded, and the running jobs' progress. */
export interface TranscoderMetrics {
  jobs: Counter<'result'>;
  jobSeconds: Histogram;
  stageSeconds: Histogram<'stage'>;
  uploadedBytes: Counter;
  mediaSeconds: Counter;
  running: Gauge;
  /** Media seconds remuxed so far by the running jobs (from ffmpeg's -progress). */
  progressSeconds: Gauge;
  /** ffmpeg -progress speed of the latest remux (media seconds per wall second). */
  speedRatio: Gauge;
}

export function registerTranscoderMetrics(registry: Registry): TranscoderMetrics {
  const registers = [registry];
  return {
    // Names and labels as infra/prometheus (alerts, dashboards) expects them.
    jobs: new Counter({ name: 'onair_transcoder_jobs_total', help: 'Recording jobs by result (done, duplicate: already a replay, failed: an attempt that will be retried, dead: dead-lettered)', labelNames: ['result'], registers }),
    jobSeconds: new Histogram({ name: 'onair_transcoder_job_duration_seconds', help: 'Wall time of a job, remux to committed row', registers, buckets: [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600] }),
    stageSeconds: new Histogram({
      name: 'onair_transcoder_stage_seconds', help: 'Wall time of each transcode stage', labelNames: ['stage'], registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    }),
    uploadedBytes: new Counter({ name: 'onair_transcoder_uploaded_bytes_total', help: 'Bytes of MP4 and posters uploaded and verified', registers }),
    mediaSeconds: new Counter({ name: 'onair_transcoder_media_seconds_total', help: 'Seconds of recorded media made into replays', registers }),
    running: new Gauge({ name: 'onair_transcoder_jobs_running', help: 'Jobs in progress in this process', registers }),
    progressSeconds: new Gauge({ name: 'onair_transcoder_progress_seconds', help: 'Media seconds remuxed so far by the jobs in progress', registers }),
    speedRatio: new Gauge({ name: 'onair_transcoder_speed_ratio', help: 'ffmpeg -progress speed of the latest remux (media seconds per wall second)', registers }),
  };
}

/**
 * onair_transcoder_queue_depth: recording.finished events the transcoder group has not finished
 * (waiting, running or waiting for a retry), read from the bus at most every 5 s. Every transcoder
 * reports the same shared figure: aggregate with max (the HPA's prometheus-adapter rule does).
 * Registered once per registry (the all-in-one process may start the transcoder beside control).
 */
export function registerQueueDepth(registry: Registry, bus: Pick<EventBus<never>, 'backlog'>, group: string, log: Logger): void {
  if (registry.getSingleMetric('onair_transcoder_queue_depth')) return;
  const depth = cachedRead(() => bus.backlog(group, { names: ['recording.finished'] }));
  new Gauge({
    name: 'onair_transcoder_queue_depth',
    help: 'Recordings (recording.finished) the transcoder group has not finished: waiting, running or to be retried; the same figure on every transcoder',
    registers: [registry],
    async collect() {
      try {
        this.set(await depth());
      } catch (err) {
        log.warn({ err }, 'could not read the transcoder queue depth for /metrics');
      }
    },
  });
}
