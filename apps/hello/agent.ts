import type { Agent } from '@clutch/core';

export default class AgentBoot {
  readonly agent: Agent;
  #hits = 0;

  constructor(agent: Agent) {
    this.agent = agent;
  }

  async didLoad() {
    this.agent.messenger.on('hit', () => {
      this.#hits++;
    });
    this.agent.messenger.handle('stats', () => ({ hits: this.#hits, workers: this.agent.messenger.pids.workers }));
  }
}
