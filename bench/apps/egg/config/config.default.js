const { join } = require('node:path');
const { tmpdir } = require('node:os');

module.exports = {
  keys: 'bench',
  // Keep egg's files out of the repository and the home folder.
  logger: { dir: join(tmpdir(), 'clutch-bench-egg-logs'), level: 'NONE', consoleLevel: 'NONE' },
  rundir: join(tmpdir(), 'clutch-bench-egg-run'),
};
