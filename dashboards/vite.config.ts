import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** The dashboards: Preact (JSX through Vite's own Oxc transform, no plugin), built into dashboards/dist. */
export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(here, process.env.IOTLAB_DASHBOARDS_OUT_DIR ?? 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // One chunk for the app, one for ECharts and one for MQTT: they change at different paces.
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|tslib)[\\/]/ },
            { name: 'mqtt', test: /node_modules[\\/]mqtt[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    // `npx vite dashboards` for development: the API, MQTT and docs come from a running platform.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/mqtt': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
