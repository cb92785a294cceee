import type { AppInfo } from '@clutch/core';

export default (appInfo: AppInfo) => ({
  greeting: `Hello from ${appInfo.name}`,
});
