import { defineConfig } from '@clutch/core';

declare module '@clutch/core' {
  interface AppConfig {
    greeting: string;
    requestId: { header: string };
  }
}

export default defineConfig((appInfo) => ({
  greeting: `Welcome to ${appInfo.name}`,
  middleware: ['requestId'],
  requestId: { header: 'x-request-id' },
}));
