const { Controller } = require('egg');

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

module.exports = class HomeController extends Controller {
  async index() {
    this.ctx.body = 'Hello World';
  }

  /** egg's messenger has no request/reply: a round trip is a message there and one back. */
  async pingpong() {
    const { messenger } = this.app;
    const n = Number(this.ctx.query.n || 2000);
    const samples = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await new Promise((resolve) => {
        messenger.once('pong', resolve);
        messenger.sendToAgent('ping-msg', { pid: process.pid });
      });
      samples.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    samples.sort((a, b) => a - b);
    this.ctx.body = { n, p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }

  async broadcast() {
    const { messenger } = this.app;
    const n = Number(this.ctx.query.n || 50000);
    this.ctx.body = await new Promise((resolve) => {
      messenger.once('b-result', resolve);
      messenger.sendToAgent('b-run', { n, workers: 2, pid: process.pid });
    });
  }
};
