#!/usr/bin/env node
// The platform from its TypeScript sources (tsx), with no build step between a change and a run:
// `npm run dev -- demo`. For `start` and `demo` the dashboards are built into dashboards/dist
// when missing or stale.
import { register } from 'tsx/esm/api';

register();
// Only the commands that serve the web app need it built.
if (['start', 'demo'].includes(process.argv[2] ?? '')) {
  const { ensureDashboardsBuilt } = await import('../dashboards/index.ts');
  await ensureDashboardsBuilt().catch((error) => {
    console.error(`dashboards could not be built (${error.message}): the API, broker and flows still run`);
  });
}
await import('../cli/main.ts');
