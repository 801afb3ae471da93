/**
 * Each shipped curriculum flow, loaded by node-red-node-test-helper exactly as shipped (only its
 * tab settings changed where a test needs it), connected to the real platform broker with a
 * service account, working on kits that speak the protocol: what they receive, and what the
 * platform stores, is what a student would see.
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BROKER_NODE_ID,
  type CurriculumFlowName,
  curriculumFlow,
  type FlowNode,
  NOTIFICATIONS_TOPIC,
  setEnv,
} from '../../flows/index.ts';
import { gradeAttempt, loadGradingData } from '../../grading/index.ts';
import { checkRubric } from '../../lab-api/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { pinnedSimKit, ScriptedKit } from './kits.ts';

const require = createRequire(import.meta.url);

interface TestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(
    nodes: unknown[],
    flow: FlowNode[],
    credentials: Record<string, Record<string, string>>,
  ): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): unknown;
}
const helper = require('node-red-node-test-helper') as TestHelper;
helper.init(require.resolve('node-red'));

const NODES = [
  require('@node-red/nodes/core/network/10-mqtt.js'),
  require('@node-red/nodes/core/function/10-function.js'),
  require('@node-red/nodes/core/function/89-trigger.js'),
  require('@node-red/nodes/core/common/90-comment.js'),
];

let lab: TestPlatform;
let service: { username: string; secret: string };

beforeAll(async () => {
  lab = await startTestPlatform();
  service = await lab.addService('node-red');
  await helper.startServer();
});
afterAll(async () => {
  await helper.stopServer();
  await lab?.close();
});

const kits: { close(): Promise<void> }[] = [];
beforeEach(() => {
  kits.length = 0;
});
afterEach(async () => {
  await Promise.all(kits.map((kit) => kit.close().catch(() => {})));
  await helper.unload();
});

/** Loads a shipped flow against the test platform's broker, with these tab settings. */
async function loadFlow(name: CurriculumFlowName, env: Record<string, string | number> = {}): Promise<void> {
  const flow = curriculumFlow(name).map((node) => {
    if (node.id === BROKER_NODE_ID) return { ...node, port: String(lab.platform.ports.mqtt) };
    if (node.type === 'tab') return { ...node, env: setEnv(node.env, env) };
    return node;
  });
  const earlier = new Set(nodeRedClients().map((client) => client.id));
  await helper.load(NODES, flow, { [BROKER_NODE_ID]: { user: service.username, password: service.secret } });
  // The flow is listening once the broker holds its (new) connection's subscriptions to every
  // topic of its `mqtt in` nodes.
  const topics = flow.filter((node) => node.type === 'mqtt in').map((node) => node.topic as string);
  await eventually(
    () =>
      nodeRedClients().some(
        (client) => !earlier.has(client.id) && topics.every((topic) => topic in client.subscriptions),
      ),
    10_000,
    `the flow to subscribe to ${topics.join(', ')}`,
  );
}

/** Node-RED's MQTT connections to the test broker. */
function nodeRedClients(): { id: string; subscriptions: Record<string, unknown> }[] {
  const clients = (
    lab.platform.broker.aedes as unknown as {
      clients: Record<string, { id: string; subscriptions: Record<string, unknown> }>;
    }
  ).clients;
  return Object.values(clients).filter((client) => client.id.startsWith('nodered'));
}

async function scriptedKit(id: string): Promise<ScriptedKit> {
  const kit = await ScriptedKit.connect(lab.mqttUrl, id, await lab.addKit(id));
  kits.push(kit);
  return kit;
}

async function stored(kitId: string, sensor: string) {
  await lab.platform.writer.flush();
  return lab.platform.store.readings({
    kitId,
    sensor,
    from: Date.now() - 3_600_000,
    to: Date.now() + 60_000,
  });
}

describe('threshold alarm', () => {
  it('sends the buzzer command and the alarm event when the temperature goes above T, and clears below the lower mark', async () => {
    await loadFlow('threshold-alarm', { ABOVE: 30, CLEAR_BELOW: 29 });
    const kit = await scriptedKit('alarm-kit');
    const watcher = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    const events = await collect(watcher, 'iotlab/v1/kits/alarm-kit/events');

    await kit.send({ temperature: 25 });
    await kit.send({ temperature: 29.9 });
    const crossing = await kit.send({ temperature: 30.4 });
    await kit.commandArrives((c) => c.command === 'buzzer' && c.value === 1, 'the buzzer on');
    await events.next(1);
    expect(events.json()[0]).toMatchObject({
      event: 'alarm',
      value: 1,
      sensor: 'temperature',
      reading: 30.4,
    });

    // Between the marks nothing changes (hysteresis); below the lower one the alarm clears.
    await kit.send({ temperature: 29.5 });
    await kit.send({ temperature: 31 });
    await kit.send({ temperature: 28.8 });
    await kit.commandArrives((c) => c.command === 'buzzer' && c.value === 0, 'the buzzer off');
    await events.next(2);
    expect(kit.commands.map((c) => [c.command, c.value])).toEqual([
      ['buzzer', 1],
      ['buzzer', 0],
    ]);
    expect(events.json()[1]).toMatchObject({ event: 'alarm', value: 0 });

    // The platform stored the command, and a rubric's threshold response passes on it.
    const buzzer = await stored('alarm-kit', '@command.buzzer');
    expect(buzzer.map((p) => p.value)).toEqual([1, 0]);
    const rubric = checkRubric(
      {
        criteria: [
          {
            id: 'alarm',
            title: 'Alarm within 2 s',
            weight: 100,
            partialCredit: false,
            type: 'threshold_response',
            params: {
              sensor: 'temperature',
              above: 30,
              respondWith: { command: 'buzzer' },
              withinSeconds: 2,
            },
          },
        ],
      },
      { requiredSensors: ['temperature'], requiredActuators: [] },
    );
    const window = { from: crossing - 60_000, to: Date.now() + 5_000 };
    const data = await loadGradingData(lab.platform.store, 'alarm-kit', window, ['temperature']);
    const grade = gradeAttempt(rubric, window, data);
    expect(grade.criteria[0]).toMatchObject({ passed: true });
    await watcher.endAsync();
  });
});

describe('closed loop', () => {
  it('switches the pump of a simulated greenhouse kit on when the soil is dry and off once it is wet, with hysteresis', async () => {
    await loadFlow('closed-loop', { ON_BELOW: 40, OFF_ABOVE: 60 });
    const secret = await lab.addKit('loop-kit');
    const sim = pinnedSimKit(lab.mqttUrl, 'loop-kit', secret);
    kits.push({ close: () => sim.kit.stop() });
    sim.pin.soil_moisture = 30;
    await sim.kit.start();
    await eventually(
      () => sim.commands.some((c) => c.command === 'pump' && c.value === 1),
      10_000,
      'pump on',
    );
    // The kit obeys: its telemetry reports the pump on.
    await eventually(
      async () => (await stored('loop-kit', 'pump')).at(-1)?.value === 1,
      10_000,
      'pump reported on',
    );

    sim.pin.soil_moisture = 50; // inside the band: the pump stays on
    await eventually(
      async () => (await stored('loop-kit', 'soil_moisture')).some((p) => p.value === 50),
      10_000,
      'soil at 50 %',
    );
    sim.pin.soil_moisture = 65;
    await eventually(
      () => sim.commands.some((c) => c.command === 'pump' && c.value === 0),
      10_000,
      'pump off',
    );
    const switches = sim.commands.filter((c) => c.command === 'pump').map((c) => c.value);
    expect(switches).toEqual([1, 0]);
    await eventually(
      async () => (await stored('loop-kit', 'pump')).at(-1)?.value === 0,
      10_000,
      'pump reported off',
    );
  });
});

describe('data cleaning', () => {
  it('publishes a moving average without the outliers as a derived sensor of the kit, stored like its own', async () => {
    await loadFlow('data-cleaning', { WINDOW: 3, MAX_JUMP: 5 });
    const kit = await scriptedKit('clean-kit');
    const sent = [20, 21, 22, 85, 23, 24];
    const times: number[] = [];
    for (const [i, temperature] of sent.entries()) {
      times.push(await kit.send({ temperature }, Date.now() - (sent.length - i) * 1000));
    }
    await eventually(
      async () => (await stored('clean-kit', 'temperature_smooth')).length === 5,
      10_000,
      'five smoothed readings',
    );
    const smooth = await stored('clean-kit', 'temperature_smooth');
    // 85 is dropped; the others averaged over the last three good ones, at the original times.
    expect(smooth.map((p) => p.value)).toEqual([20, 20.5, 21, 22, 23]);
    expect(smooth.map((p) => p.ts)).toEqual([times[0], times[1], times[2], times[4], times[5]]);
  });

  it('takes a lasting change of level as real after three readings', async () => {
    await loadFlow('data-cleaning', { WINDOW: 3, MAX_JUMP: 5 });
    const kit = await scriptedKit('step-kit');
    for (const [i, temperature] of [20, 20, 20, 40, 40, 40, 40].entries()) {
      await kit.send({ temperature }, Date.now() - (10 - i) * 1000);
    }
    await eventually(
      async () => (await stored('step-kit', 'temperature_smooth')).at(-1)?.value === 40,
      10_000,
      'the new level',
    );
    const smooth = (await stored('step-kit', 'temperature_smooth')).map((p) => p.value);
    expect(smooth).toEqual([20, 20, 20, 40, 40]);
  });
});

describe('kit health', () => {
  it('notifies when a kit stays offline longer than the limit, not when it is back in time, and when it returns', async () => {
    await loadFlow('kit-health', { OFFLINE_SECONDS: 2 });
    const watcher = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    const notes = await collect(watcher, NOTIFICATIONS_TOPIC);
    const about = (kitId: string) => notes.json().filter((note) => note.kitId === kitId);

    const briefSecret = await lab.addKit('brief-kit');
    const goneSecret = await lab.addKit('gone-kit');
    const brief = pinnedSimKit(lab.mqttUrl, 'brief-kit', briefSecret);
    const gone = pinnedSimKit(lab.mqttUrl, 'gone-kit', goneSecret);
    await brief.kit.start();
    await gone.kit.start();
    // brief-kit drops and is back at once; gone-kit stays away.
    await brief.kit.stop();
    const again = pinnedSimKit(lab.mqttUrl, 'brief-kit', briefSecret);
    kits.push({ close: () => again.kit.stop() });
    await again.kit.start();
    await gone.kit.stop();

    await eventually(() => about('gone-kit').length === 1, 10_000, 'the offline notification');
    expect(about('gone-kit')[0]).toMatchObject({ kind: 'kit-offline', kitId: 'gone-kit' });
    expect((about('gone-kit')[0] as { message: { en: string } }).message.en).toContain(
      'offline for more than 2 s',
    );

    const back = pinnedSimKit(lab.mqttUrl, 'gone-kit', goneSecret);
    kits.push({ close: () => back.kit.stop() });
    await back.kit.start();
    await eventually(() => about('gone-kit').length === 2, 10_000, 'the back-online notification');
    expect(about('gone-kit')[1]).toMatchObject({ kind: 'kit-online', kitId: 'gone-kit' });
    expect(about('brief-kit')).toEqual([]);
    await watcher.endAsync();
  });
});
