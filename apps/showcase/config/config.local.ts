import { defineConfig } from '@clutch/core';

// `app dev` and `--env local`: quicker rates, a friendlier greeting.
export default defineConfig({
  greeting: 'Welcome to showcase (local)',
  rates: { refreshInterval: 1_000 },
});
