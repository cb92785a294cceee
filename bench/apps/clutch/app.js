/**
 * Counts the messages of one run — `<name>-start` says how many, then `<name>` n times — and tells
 * the agent `<name>-done` at the last: the broadcast (b) and the stream (s) of the bench routes.
 */
function countRuns(messenger, name) {
  let count = 0;
  let target = 0;
  messenger.on(`${name}-start`, ({ n }) => {
    count = 0;
    target = n;
  });
  messenger.on(name, () => {
    if (++count === target) messenger.sendToAgent(`${name}-done`, null);
  });
}

export default class {
  constructor(app) {
    this.app = app;
  }

  didLoad() {
    countRuns(this.app.messenger, 'b');
    countRuns(this.app.messenger, 's');
  }
}
