/** One fault per scenario, its parameters drawn from the scenario's seed and logged. */
import { defineScenario } from '../../api.js';
import { inOrderThenFaulted } from './workload.js';

export const duplicated = defineScenario({
  name: 'webhooks duplicated 10× apply once',
  suite: 'ordering',
  tags: ['webhooks', 'dedupe'],
  needs: ['control-plane', 'handsets', 'webhook-faults'],
  description: 'post-events (40 % of them, seeded) delivered 10 times, same idempotency token: the state equals the in-order run',
  async run(ctx) {
    // a drawn share of the events, each delivered 10 times: every kind of event meets it, the run stays short
    await inOrderThenFaulted(ctx, [{ probability: 0.4, action: { type: 'duplicate', count: 9 } }]);
  },
});

export const reordered = defineScenario({
  name: 'webhooks reordered in windows of 10 converge',
  suite: 'ordering',
  tags: ['webhooks', 'ordering'],
  needs: ['control-plane', 'handsets', 'webhook-faults'],
  description: 'post-events held 10 at a time and released shuffled: the state equals the in-order run',
  async run(ctx) {
    await inOrderThenFaulted(ctx, [{ action: { type: 'reorder', window: 10, ms: ctx.random.int(100, 200) } }]);
  },
});

export const delayed = defineScenario({
  name: 'webhooks delayed lognormally converge',
  suite: 'ordering',
  tags: ['webhooks', 'latency'],
  needs: ['control-plane', 'handsets', 'webhook-faults'],
  description: 'each post-event delayed (lognormal): the state equals the in-order run',
  async run(ctx) {
    const medianMs = ctx.random.int(5, 15);
    await inOrderThenFaulted(ctx, [{ probability: 0.5, action: { type: 'delay', lognormal: { medianMs, sigma: 1 } } }]);
  },
});

export const retried = defineScenario({
  name: 'webhooks retried after 500s apply once',
  suite: 'ordering',
  tags: ['webhooks', 'retries'],
  needs: ['control-plane', 'handsets', 'webhook-faults'],
  description: 'first attempts answered 500 by the network, retried (#rc=3&rp=5xx): the state equals the in-order run',
  async run(ctx) {
    const probability = Math.round((0.3 + ctx.random.next() * 0.4) * 100) / 100;
    await inOrderThenFaulted(ctx, [{ probability, action: { type: 'fail', status: 500 } }], '#rc=3&rp=5xx');
  },
});
