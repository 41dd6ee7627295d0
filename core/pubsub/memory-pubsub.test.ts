import { describePubSubContract } from './pubsub.contract.js';
import { testPubSubs } from '../testing/test-pubsubs.js';

const memory = testPubSubs().find((f) => f.name === 'memory')!;
describePubSubContract('MemoryPubSub', (options) => memory.cluster(options), { dropsConnections: false });
