import { skipUnless, natsUrl, uniqueName } from '@gatehouse/testing';
import { createNatsHub } from '../src/index.ts';
import { eventHubSuite } from './hub-suite.ts';
import { dropStreams } from './nats-helpers.ts';

const skip = await skipUnless('nats');
const prefix = uniqueName('ghev');
const prefixes = new Set([prefix]);

if (skip) {
  process.stderr.write(`# NOTE: skipping the NATS event hub suite: ${skip}\n`);
} else {
  eventHubSuite('nats', {
    async create(opts = {}) {
      const { source, logger, retention } = opts;
      // A retention of its own needs streams of its own: a fresh prefix.
      const p = retention === undefined ? prefix : uniqueName('ghev_ret');
      prefixes.add(p);
      return createNatsHub({ servers: [natsUrl()], prefix: p, source, logger, streamMaxMsgs: retention });
    },
    cleanup: () => dropStreams(prefixes),
  });
}
