import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logging/logger.js';
import { MemoryPubSub, MemoryPubSubHub } from '../../core/pubsub/memory-pubsub.js';
import { roomChannel } from '../../core/pubsub/wire.js';
import { waitFor } from '../../core/testing/wait-for.js';
import { Announcer } from './announcer.js';
import { WordFilter } from './word-filter.js';

describe(Announcer.name, () => {
  it('aggregates a crowd entering into one audience_join per window, with three names and the count', async () => {
    const pubsub = new MemoryPubSub({ hub: new MemoryPubSubHub() });
    const seen: Array<Record<string, unknown>> = [];
    await pubsub.subscribe(roomChannel('7'), (d) => void seen.push(d.message as Record<string, unknown>));
    const liked: number[] = [];
    const announcer = new Announcer(pubsub, silentLogger(), 300, async (_room, n) => liked.push(n));
    for (let i = 1; i <= 25; i++) announcer.joined('7', { id: String(i), name: `user${i}` }, i);
    for (let i = 0; i < 40; i++) announcer.liked('7', 1);
    await waitFor('the aggregated join', () => seen.filter((m) => m.type === 'audience_join').reduce((n, m) => n + (m.count as number), 0) === 25, 5000, 20);
    const joins = seen.filter((m) => m.type === 'audience_join');
    assert.equal(joins.length, 2, 'the first at once, the other 24 in one message at the end of the window');
    assert.deepEqual(joins[1], { v: 1, type: 'audience_join', users: [{ id: '2', name: 'user2' }, { id: '3', name: 'user3' }, { id: '4', name: 'user4' }], count: 24, online: 25 });
    await waitFor('the likes', () => liked.reduce((a, b) => a + b, 0) === 40, 5000, 20);
    assert.ok(liked.length <= 2, 'the likes of a window go to the counter in one call');
    assert.deepEqual(seen.filter((m) => m.type === 'online').at(-1), { v: 1, type: 'online', count: 25 });
    announcer.close();
    await pubsub.close();
  });
});

describe(WordFilter.name, () => {
  const cases: Array<[string[], string, boolean, string]> = [
    [['bad'], 'a BAD word', true, 'a *** word'],
    [['bad', 'badder'], 'badder', true, '******'],
    [['敏感'], '这是敏感词', true, '这是**词'],
    [['a.b'], 'axb', false, 'axb'],
    [[], 'anything', false, 'anything'],
  ];
  for (const [words, text, matches, masked] of cases) {
    it(`${JSON.stringify(words)} on ${JSON.stringify(text)}`, () => {
      const f = new WordFilter(words);
      assert.equal(f.matches(text), matches);
      assert.equal(f.mask(text), masked);
    });
  }
});
