import type { PluginEntry } from '@clutch/core';

export default {
  // A plugin is a folder (or an npm package) laid out like a project.
  rates: { path: 'plugins/rates' },
} satisfies Record<string, PluginEntry>;
