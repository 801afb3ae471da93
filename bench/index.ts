/**
 * `npm run bench` — never part of `npm test`. One JSON line per run.
 *   --suite ingest,gateway,fleet,lab,grading,dashboards   (default: all)
 *   ingest:  --kits 100 --seconds 10 --window 32 (QoS 1 messages in flight per kit)
 *            --stores embedded,influxdb --no-mosquitto
 *   gateway: --serial-kits 32 --lines-per-second 50 --gateway-seconds 20
 *   fleet:   --fleet-kits 1000 --fleet-seconds 60
 *   lab:     --lab-seconds 20 (2,000 students, 50 classes, 200 projects; reads at 200 requests/s)
 *   grading: --grading-kits 50 --grading-hours 2 (final grading; --stores as for ingest)
 *            --grading-live-kits 1000 --grading-live-seconds 30 --grading-live-history 0,60
 *            (live grading at 1 Hz per kit; one run per minutes of history already buffered)
 *            --grading-parts final,live (default: both)
 *   dashboards: --dashboard-kits 40 --dashboard-minutes 10 (bundle size, first load, a class board
 *            of 40 kits × 4 sensors at 1 Hz in headless chromium: frame times, JS heap; 1 for a quick run)
 *   cluster: --cluster-kits 100 --cluster-seconds 10 --zone 20x1000x8 (not in the default set: the
 *            flood through HAProxy to 1 and 2 instances, kill -9 failover, a zone's capacity estimate
 *            for colleges × kits per college × sensors per kit at 1 Hz)
 */
import { parseArgs } from 'node:util';
import { serverAvailable } from '../harness/index.ts';
import { emitResult } from './report.ts';

const { values: args } = parseArgs({
  options: {
    suite: { type: 'string', default: 'ingest,gateway,fleet,lab,grading,dashboards' },
    kits: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '32' },
    stores: { type: 'string', default: 'embedded,influxdb' },
    'no-mosquitto': { type: 'boolean', default: false },
    'serial-kits': { type: 'string', default: '32' },
    'lines-per-second': { type: 'string', default: '50' },
    'gateway-seconds': { type: 'string', default: '20' },
    'fleet-kits': { type: 'string', default: '1000' },
    'fleet-seconds': { type: 'string', default: '60' },
    'lab-seconds': { type: 'string', default: '20' },
    'grading-kits': { type: 'string', default: '50' },
    'grading-hours': { type: 'string', default: '2' },
    'grading-live-kits': { type: 'string', default: '1000' },
    'grading-live-seconds': { type: 'string', default: '30' },
    'grading-live-history': { type: 'string', default: '0,60' },
    'grading-parts': { type: 'string', default: 'final,live' },
    'dashboard-kits': { type: 'string', default: '40' },
    'dashboard-minutes': { type: 'string', default: '10' },
    'cluster-kits': { type: 'string', default: '100' },
    'cluster-seconds': { type: 'string', default: '10' },
    zone: { type: 'string', default: '20x1000x8' },
  },
});
const suites = new Set(String(args.suite).split(','));
// Each suite is imported when it runs: a suite's process holds only what it measures (the
// dashboards' browser driver has no business in the grading suite's heap).

if (suites.has('ingest')) {
  const { ingestBench } = await import('./ingest.ts');
  await ingestBench({
    kits: Number(args.kits),
    seconds: Number(args.seconds),
    window: Number(args.window),
    stores: String(args.stores).split(',') as ('embedded' | 'influxdb')[],
    mosquitto: !args['no-mosquitto'],
  });
}
if (suites.has('gateway')) {
  if (serverAvailable('socat')) {
    const { gatewayBench } = await import('./gateway.ts');
    await gatewayBench({
      kits: Number(args['serial-kits']),
      linesPerSecond: Number(args['lines-per-second']),
      seconds: Number(args['gateway-seconds']),
    });
  } else emitResult('gateway', { skipped: 'socat not installed (apt-get install socat)' });
}
if (suites.has('lab')) {
  const { labApiBench } = await import('./lab-api.ts');
  await labApiBench({
    students: 2000,
    classes: 50,
    projects: 200,
    requestsPerSecond: 200,
    seconds: Number(args['lab-seconds']),
  });
}
if (suites.has('fleet')) {
  const { fleetBench } = await import('./fleet.ts');
  await fleetBench({ kits: Number(args['fleet-kits']), seconds: Number(args['fleet-seconds']) });
}
if (suites.has('grading')) {
  const { gradingBench } = await import('./grading/index.ts');
  await gradingBench({
    kits: Number(args['grading-kits']),
    hours: Number(args['grading-hours']),
    stores: String(args.stores).split(',') as ('embedded' | 'influxdb')[],
    liveKits: Number(args['grading-live-kits']),
    liveSeconds: Number(args['grading-live-seconds']),
    liveHistoryMinutes: String(args['grading-live-history']).split(',').map(Number),
    parts: String(args['grading-parts']).split(',') as ('final' | 'live')[],
  });
}
if (suites.has('dashboards')) {
  const { dashboardsBench } = await import('./dashboards.ts');
  await dashboardsBench({ kits: Number(args['dashboard-kits']), minutes: Number(args['dashboard-minutes']) });
}
if (suites.has('cluster')) {
  const { clusterBench } = await import('./cluster.ts');
  const [colleges, kitsPerCollege, sensorsPerKit] = String(args.zone).split('x').map(Number);
  await clusterBench({
    kits: Number(args['cluster-kits']),
    seconds: Number(args['cluster-seconds']),
    zone: {
      colleges: colleges ?? 20,
      kitsPerCollege: kitsPerCollege ?? 1000,
      sensorsPerKit: sensorsPerKit ?? 8,
    },
  });
}
process.exit(0);
