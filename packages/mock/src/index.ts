export { createApp, type CreateAppOptions, type MockApp } from './create-app.js';
export { startCluster, type RunningCluster, type StartClusterOptions } from './start-cluster.js';
export { AGENT_PID, WORKER_PID } from './bridge.js';
