#!/usr/bin/env node
// The platform as installed: the compiled JavaScript in build/ (`npm run build`, which
// `npm install` runs). For the TypeScript sources as they are, use bin/iotlab-dev.js (`npm run dev`).
import { existsSync } from 'node:fs';

const built = new URL('../build/BUILT', import.meta.url);
if (!existsSync(built)) {
  console.error(
    'iotlab: the platform is not built yet: run `npm run build` (`npm install` does it), or `npm run dev -- <command>` to run the sources',
  );
  process.exit(1);
}
await import('../build/cli/main.js');
