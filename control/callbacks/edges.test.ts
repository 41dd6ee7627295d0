/**
 * Each edge's translation yields events their schema accepts (the consumer checks every delivery
 * against it; a translation that broke it would dead-letter every such event).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDomainEvent } from '../../core/events/domain-events.js';
import type { MediaEventName, MediaEvents } from '../../core/media/media-contract.js';
import { parseCssCallback, type CallbackEventTypeCode } from './callback.schema.js';
import { mapMediaEvent } from './media-events.js';
import type { DomainEventOut } from './domain-event-out.js';

const check = (out: DomainEventOut) => {
  assert.notEqual(out.kind, 'none');
  if (out.kind === 'none') return null;
  return { name: out.name, event: parseDomainEvent(out.name, out.event) };
};

describe('edge translations', () => {
  it('CSS callbacks become their domain events', () => {
    const cases: Array<[CallbackEventTypeCode, Record<string, unknown>, string]> = [
      [1, { stream_id: '1001', sequence: '42', event_time: 1_700_000_000, user_ip: '10.0.0.1', appname: 'live' }, 'stream.published'],
      [0, { stream_id: '1001', sequence: '42', event_time: 1_700_000_100, push_duration: '100' }, 'stream.unpublished'],
      [100, { stream_id: '1001', video_url: 'http://vod/a.flv', file_id: 'f1', start_time: 1, end_time: 61, duration: 60, file_size: 9 }, 'recording.finished'],
      [200, { stream_id: '1001', pic_url: '/shots/1.jpg', pic_full_url: 'http://img/1.jpg', create_time: 1_700_000_000 }, 'screenshot.taken'],
      [317, { streamId: '1001', img: 'http://img/2.jpg', score: [95], suggestion: 'Block', label: 'Porn' }, 'audit.flagged'],
      [315, { stream_id: '1001', HitFlag: 1, Score: 30, label: 'Abuse' }, 'audit.flagged'],
      [321, { stream_id: '1001', sequence: '42', data_time: 1_700_000_000_000 }, 'stream.failed'],
    ];
    for (const [type, body, name] of cases) {
      const parsed = parseCssCallback(type, body, Date.now());
      assert.ok(parsed.ok, `${type}`);
      const got = check(parsed.out)!;
      assert.equal(got.name, name, `${type}`);
      assert.equal(got.event.roomId, '1001');
    }
    const push = parseCssCallback(1, cases[0]![1], 0);
    const cut = parseCssCallback(0, cases[1]![1], 0);
    assert.ok(push.ok && cut.ok && push.out.kind === 'durable' && cut.out.kind === 'durable');
    assert.equal((push.out.event as { publisherId: string }).publisherId, (cut.out.event as { publisherId: string }).publisherId, 'a push and its cut-off pair by sequence');
    const severe = parseCssCallback(317, cases[4]![1], 0);
    assert.ok(severe.ok && severe.out.kind === 'durable' && severe.out.name === 'audit.flagged');
    assert.equal(severe.out.event.severity, 'severe');
    assert.equal(severe.out.event.bodyVerified, false, 'the vendor MD5 covers no body');
  });

  it('every media event becomes its domain event; stats and viewings are not durable', () => {
    const base = { streamName: '1001', publisherId: 'p1', at: 5 };
    const play = { streamName: '1001', viewerId: 'v1', protocol: 'http-flv' as const, clientIp: '1.2.3.4', at: 6 };
    const events: { [N in MediaEventName]: MediaEvents[N] } = {
      'publish.started': { ...base, app: 'live', clientIp: '1.2.3.4' },
      'publish.ended': { ...base, app: 'live', reason: 'closed', bytesIn: 1, durationMs: 2 },
      'play.started': play,
      'play.ended': { ...play, reason: 'closed', bytesOut: 3, durationMs: 4 },
      'stream.stats': { ...base, bitrateInKbps: 1, bitrateOutKbps: 1, viewers: { rtmp: 0, 'http-flv': 1, 'ws-flv': 0, hls: 0, webrtc: 0 }, videoFrames: 1, audioFrames: 1, bytesIn: 1, bytesOut: 1 },
      'record.done': { streamName: '1001', publisherId: 'p1', path: '/data/rec/a.flv', startedAt: 1, endedAt: 2, durationMs: 1, size: 10 },
    };
    const names = Object.entries(events).map(([n, p]) => {
      const out = mapMediaEvent(n as MediaEventName, p as never);
      check(out);
      return `${out.kind} ${out.kind === 'none' ? '' : out.name}`;
    });
    assert.deepEqual(names, ['durable stream.published', 'durable stream.unpublished', 'fan-out viewer.joined', 'fan-out viewer.left', 'fan-out stream.heartbeat', 'durable recording.finished']);
  });
});
