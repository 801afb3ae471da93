/**
 * `iotlab start`, `demo`, `sim` and `gateway`: the commands that run until a signal stops them.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  findSocat,
  loadScenario,
  type Scenario,
  Simulation,
  scenarioNames,
} from '../../firmware-sim/index.ts';
import { SerialGateway } from '../../gateway/index.ts';
import type { KitRegistry, ServiceScope } from '../../labdb/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { ConfigError, type PlatformConfig } from '../config.ts';
import { DEMO_ALARM_KIT, deployDemoFlows, FLOW_TASK_TITLE, seedFlowTask } from '../demo-flows.ts';
import { demoKitName, seedDemoLab, startDemoSession } from '../demo-seed.ts';
import { createLogger } from '../logger.ts';
import { gatewayOptions } from '../platform.ts';
import { runPlatform, SIMULATING_SIGNALS, stopOnSignals } from '../run.ts';
import type { CliContext } from './context.ts';

/** Loads a scenario; without socat, its USB kits are left out (with a note) so the demo still runs. */
function scenarioFor(name: string, log: (message: string) => void): Scenario {
  const scenario = loadScenario(name);
  if (findSocat() || scenario.kits.every((kit) => kit.kind === 'esp32')) return scenario;
  log(
    'socat is not installed: the simulated USB kits (Arduino, Firmata) are left out. apt-get install socat to see them.',
  );
  return { ...scenario, kits: scenario.kits.filter((kit) => kit.kind === 'esp32') };
}

/** Registers the scenario's kits (kind as simulated) and issues fresh secrets to the Wi-Fi ones. */
async function registerScenarioKits(
  registry: KitRegistry,
  scenario: Scenario,
): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {};
  for (const [index, spec] of scenario.kits.entries()) {
    const existing = await registry.getKit(spec.id);
    secrets[spec.id] = existing
      ? await registry.rotateKitSecret(spec.id)
      : (
          await registry.addKit({
            id: spec.id,
            kind: spec.kind,
            name: demoKitName(spec.profile, index + 1),
          })
        ).secret;
  }
  return secrets;
}

/** A service account of the demo or simulator, with only the scopes it needs, and a fresh secret. */
function ensureService(
  registry: KitRegistry,
  name: string,
  scopes: readonly ServiceScope[],
): Promise<string> {
  return registry.ensureService(name, 'created by iotlab', scopes);
}

export function platformCommands(program: Command, { config, withRegistry }: CliContext): void {
  program
    .command('start')
    .description('run the platform: broker, ingest, store and HTTP API (and the serial gateway when enabled)')
    .action(async () => {
      await runPlatform(config());
    });

  program
    .command('demo')
    .description(
      'run the platform with simulated kits of every kind (Wi-Fi, USB, Firmata), so you can watch data arrive',
    )
    .option('-s, --scenario <name|file>', 'scenario of simulated kits', 'demo')
    .action(async (options: { scenario: string }) => {
      const base = config(process.env.IOTLAB_DATA_DIR ? {} : { dataDir: './var/demo' });
      const scenario = scenarioFor(options.scenario, (message) => console.warn(`iotlab demo: ${message}`));
      const simulation = await Simulation.prepare(scenario);
      const settings: PlatformConfig = {
        ...base,
        gateway: {
          ...base.gateway,
          enabled: true,
          ports: [...base.gateway.ports, ...simulation.gatewayPorts()],
        },
      };
      const { platform, logger } = await runPlatform(settings, simulation);
      const secrets = await registerScenarioKits(platform.registry, scenario);
      // The kits start at once: the gateway already has their ports open, and a Firmata board that
      // does not answer within 10 s is reported as a problem (seeding the lab takes longer on a busy PC).
      await simulation.start({
        brokerUrl: `mqtt://127.0.0.1:${platform.ports.mqtt}`,
        credentials: (kitId) => ({ username: kitId, password: secrets[kitId] as string }),
      });
      // Read-only: the printed curl line shows data, and the secret can change nothing.
      const viewerSecret = await ensureService(platform.registry, 'demo-viewer', ['read']);
      const accounts = await seedDemoLab(
        platform.labDb,
        platform.registry,
        scenario.kits.map((kit) => kit.id),
        join(resolve(settings.dataDir), 'demo-accounts.json'),
      );
      const session = await startDemoSession(
        platform.labDb,
        scenario.kits.map((kit) => kit.id),
      );
      // Node-RED (flows/): the curriculum flows on the simulated kits, and a lab task graded on a flow.
      if (platform.flows) {
        await seedFlowTask(platform.labDb);
        await deployDemoFlows(platform.flows);
      }
      const first = scenario.kits[0]?.id ?? 'demo-01';
      const url = `http://127.0.0.1:${platform.ports.http}`;
      const viewer = `-u demo-viewer:${viewerSecret}`;
      // The kit a person can be by hand: the first Wi-Fi kit (its secret is renewed at each start).
      const handKit = scenario.kits.find((kit) => kit.kind === 'esp32')?.id;
      const handPayload = JSON.stringify({ readings: { temperature: 23.5, humidity: 61 } });
      const liveKit = Object.keys(session.attemptIds)[0];
      const kinds = [...new Set(scenario.kits.map((k) => k.kind))].join(', ');
      const lines = [
        `demo: ${scenario.kits.length} simulated kits (${kinds}) from scenario "${scenario.name}". Try:`,
        `  Dashboards (sign in with an account below): ${url}/`,
        `  API docs: ${url}/docs`,
        `Read the kits' data as the read-only service demo-viewer:`,
        `  curl ${viewer} '${url}/api/v1/kits'`,
        `  curl ${viewer} '${url}/api/v1/kits/${first}/telemetry?sensor=temperature'`,
        `  IOTLAB_DATA_DIR=${settings.dataDir} npx iotlab query ${first} temperature`,
        ...(handKit
          ? [
              `Publish as kit ${handKit} yourself (MQTT username ${handKit}, password ${secrets[handKit]}, renewed at each start; topics and payloads: docs/protocol.md):`,
              `  npx mqtt pub -h 127.0.0.1 -p ${platform.ports.mqtt} -i ${handKit}-by-hand -u ${handKit} --password=${secrets[handKit]} -q 1 -t ${kitTopic(handKit, 'telemetry')} -m '${handPayload}'`,
            ]
          : []),
        `Lab accounts (the same at every start, unless someone changed their password; kept in ${join(resolve(settings.dataDir), 'demo-accounts.json')}):`,
        ...accounts.map((a) => `  ${a.role.padEnd(10)} ${a.username.padEnd(14)} ${a.password}`),
        ...(platform.flows
          ? [
              `Node-RED editor: ${url}/flows/ (sign in with a lab account; teacher.chen and mentor.liu edit, students look). The curriculum flows run on the kits; the task "${FLOW_TASK_TITLE}" grades the gas alarm flow by the buzzer commands ${DEMO_ALARM_KIT} receives.`,
            ]
          : []),
        `Lab session ${session.sessionId} is running with ${session.attempts} attempts graded live:`,
        `  curl ${viewer} '${url}/api/v1/sessions/${session.sessionId}/leaderboard'   # the teams' ranking (JSON)`,
        ...(liveKit
          ? [
              `  curl -N ${viewer} '${url}/api/v1/attempts/${session.attemptIds[liveKit]}/live'   # ${liveKit}'s grading as it happens (server-sent events; Ctrl-C ends it)`,
            ]
          : []),
      ];
      logger.info(lines.join('\n'));
    });

  program
    .command('sim')
    .description("run a scenario of simulated kits against a platform (this machine's, or --broker)")
    .option('-s, --scenario <name|file>', `scenario: ${scenarioNames().join(', ')}, or a JSON file`, 'demo')
    .option('--broker <url>', 'broker of a remote platform, e.g. mqtt://lab-server:1883')
    .option('--service <name>', 'with --broker: a service account that connects the kits on their behalf')
    .option('--secret <secret>', "with --broker: the service account's secret")
    .action(async (options: { scenario: string; broker?: string; service?: string; secret?: string }) => {
      const settings = config();
      const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
      const scenario = scenarioFor(options.scenario, (message) => logger.warn(message));
      let brokerUrl: string;
      let service: { name: string; secret: string };
      let credentials: (kitId: string) => { username: string; password: string };
      if (options.broker) {
        if (!options.service || !options.secret)
          throw new ConfigError('--broker needs --service and --secret');
        brokerUrl = options.broker;
        service = { name: options.service, secret: options.secret };
        credentials = (kitId) => ({ username: `${kitId}@${service.name}`, password: service.secret });
      } else {
        // This machine's platform: register the kits in its lab database and use fresh secrets.
        brokerUrl = `mqtt://127.0.0.1:${settings.mqtt.port}`;
        const secrets = await withRegistry((registry) => registerScenarioKits(registry, scenario));
        service = {
          name: 'sim-gateway',
          secret: await withRegistry((registry) =>
            ensureService(registry, 'sim-gateway', ['read', 'gateway']),
          ),
        };
        credentials = (kitId) => ({ username: kitId, password: secrets[kitId] as string });
      }
      const simulation = await Simulation.prepare(scenario);
      const gatewayPorts = simulation.gatewayPorts();
      const gateway =
        gatewayPorts.length > 0
          ? new SerialGateway({
              service,
              brokerUrl,
              ports: gatewayPorts,
              scanUsb: false,
              baudRate: 115200,
              outboxDir: join(resolve(settings.dataDir), 'sim-gateway-outbox'),
              logger: logger.child({ module: 'gateway' }),
            })
          : undefined;
      await gateway?.start();
      await simulation.start({ brokerUrl, credentials });
      logger.info({ scenario: scenario.name, kits: scenario.kits.length, brokerUrl }, 'simulation running');
      stopOnSignals(
        logger,
        async () => {
          // The gateway lets go of the ports before the simulated boards behind them go away.
          await gateway?.stop();
          await simulation.stop();
        },
        SIMULATING_SIGNALS,
      );
    });

  /** A service account of the demo or simulator, with only the scopes it needs, and a fresh secret. */
  program
    .command('gateway')
    .description('run the serial gateway on this machine (USB kits → the platform broker)')
    .action(async () => {
      const settings = config();
      const { brokerUrl, serviceSecret, name } = settings.gateway;
      if (!brokerUrl || !serviceSecret) {
        throw new ConfigError(
          `the gateway needs gateway.brokerUrl and gateway.serviceSecret (env IOTLAB_GATEWAY_BROKER_URL, IOTLAB_GATEWAY_SERVICE_SECRET): create its account on the platform with "iotlab services add ${name}"`,
        );
      }
      const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
      const gateway = new SerialGateway(
        gatewayOptions(settings, { name, secret: serviceSecret }, brokerUrl, logger),
      );
      await gateway.start();
      logger.info({ name, brokerUrl, ports: settings.gateway.ports.map((p) => p.path) }, 'gateway up');
      stopOnSignals(logger, () => gateway.stop());
    });
}
