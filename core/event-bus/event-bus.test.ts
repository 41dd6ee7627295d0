import { testBusFactories } from '../testing/test-bus.js';
import { describeEventBusContract } from './event-bus.contract.js';

// DbEventBus on SQLite (and on MariaDB with ONAIR_TEST_DATABASE_URL), RedisStreamEventBus on real
// Redis with ONAIR_TEST_REDIS_URL; both required under ONAIR_STRICT=1.
for (const factory of testBusFactories()) {
  describeEventBusContract(factory.name, () => ({ make: () => factory.make(), destroy: () => factory.destroy() }));
}
