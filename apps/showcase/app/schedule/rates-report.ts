import { defineSchedule } from '@clutch/core';

// Once a minute, one worker (a different one each time) logs how the feed is doing.
export default defineSchedule({
  schedule: { interval: '1m', type: 'worker' },
  async task(ctx) {
    const stats = await ctx.app.messenger.request('agent', 'rates:stats', null);
    ctx.app.logger.info('rates: %d fetches, version %d, %d workers subscribed', stats.fetches, stats.version, stats.subscribers);
  },
});
