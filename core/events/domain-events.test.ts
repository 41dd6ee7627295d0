import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ZodError } from 'zod';
import { domainEventSchemas, domainEventSpecs, durableEventNames, fileLocation, fileRefOf, isDomainEventName, parseDomainEvent, type FanOutEventName } from './domain-events.js';

describe('domain event catalog', () => {
  it('gives every event a version and a delivery; heartbeats and viewings are not durable', () => {
    assert.deepEqual(Object.keys(domainEventSpecs).sort(), Object.keys(domainEventSchemas).sort());
    for (const spec of Object.values(domainEventSpecs)) assert.ok(Number.isInteger(spec.version) && spec.version >= 1);
    assert.ok(!durableEventNames.includes('stream.heartbeat'));
    assert.ok(durableEventNames.includes('stream.published'));
    // The bus's type (DurableEvents) leaves out FanOutEventName: it must name exactly the non-durable ones.
    const fanOut: FanOutEventName[] = ['audience.entered', 'audience.exited', 'stream.heartbeat', 'viewer.joined', 'viewer.left'];
    assert.deepEqual(Object.keys(domainEventSpecs).filter((n) => !durableEventNames.includes(n as never)).sort(), fanOut);
  });

  it('refers to files by URL when the source names one, by path otherwise', () => {
    assert.deepEqual(fileRefOf('http://vod/a.flv'), { url: 'http://vod/a.flv' });
    assert.deepEqual(fileRefOf('/data/recordings/1/a.flv'), { path: '/data/recordings/1/a.flv' });
    assert.deepEqual(fileRefOf('/shot-1.jpg'), { path: '/shot-1.jpg' });
    assert.equal(fileLocation({ objectKey: 'rec/1.mp4' }), 'rec/1.mp4');
  });

  it('parses a valid event and strips keys it does not know', () => {
    const ev = parseDomainEvent('stream.published', {
      eventId: 'media:pub:1', at: 1, roomId: '12', publisherId: 'p1', app: 'live', clientIp: '127.0.0.1', extra: 'dropped',
    });
    assert.equal(ev.roomId, '12');
    assert.ok(!('extra' in ev));
  });

  it('refuses a payload that breaks its schema', () => {
    assert.throws(() => parseDomainEvent('session.ended', { eventId: 'x', at: 1, sessionId: '1', roomId: '2', anchorId: '3', closeMethod: 4, reason: '', startedAt: null, durationMs: 0 }), ZodError);
    assert.throws(() => parseDomainEvent('recording.finished', {
      eventId: 'r', at: 1, roomId: '1', publisherId: 'p', file: {}, format: 'flv', segment: 0, startedAt: 0, endedAt: 1, durationMs: 1, size: 1,
    }), ZodError, 'a file reference needs a path, an object key or a url');
    assert.throws(() => parseDomainEvent('viewer.joined', { eventId: 'v', at: -1, roomId: '1', viewerId: 'v', protocol: 'http-flv', clientIp: '', userId: null }), ZodError);
  });

  it('knows its own names only', () => {
    assert.ok(isDomainEventName('viewer.left'));
    assert.ok(!isDomainEventName('callback.received'));
    assert.ok(!isDomainEventName('toString'));
  });
});
