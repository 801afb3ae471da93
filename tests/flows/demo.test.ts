/**
 * What `iotlab demo` sets up for flows, on the real platform: the curriculum flows deployed on
 * simulated kits, and the lab task graded on a flow's effect — its rubric passes on what the
 * demo's gas alarm flow does to a simulated air-quality kit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployDemoFlows, FLOW_TASK_TITLE, seedDemoLab, seedFlowTask } from '../../cli/index.ts';
import { CURRICULUM_FLOWS, curriculumFlow, tabOf } from '../../flows/index.ts';
import { gradeAttempt, loadGradingData, type Rubric } from '../../grading/index.ts';
import { eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { pinnedSimKit } from './kits.ts';

let lab: TestPlatform;

beforeAll(async () => {
  lab = await startTestPlatform({ flows: { enabled: true } });
  for (const id of ['demo-01', 'demo-02']) await lab.platform.registry.addKit({ id });
});
afterAll(async () => {
  await lab?.close();
});

describe('the demo with flows', () => {
  it('seeds the flow task once, assigned to the team of the gas kit', async () => {
    await seedDemoLab(lab.platform.labDb, lab.platform.registry, ['demo-01', 'demo-02']);
    const first = await seedFlowTask(lab.platform.labDb);
    const again = await seedFlowTask(lab.platform.labDb);
    expect(again).toEqual(first);
    expect(first.assignmentId).toBeDefined();
    const task = await lab.platform.labDb.get<{ title: string; status: string }>(
      'SELECT title, status FROM lab_tasks WHERE id = ?',
      [first.taskId],
    );
    expect(task).toEqual({ title: FLOW_TASK_TITLE, status: 'published' });
    const team = await lab.platform.labDb.get<{ kit_id: string }>(
      `SELECT b.kit_id FROM assignment_targets t JOIN kit_bindings b ON b.team_id = t.team_id WHERE t.assignment_id = ?`,
      [first.assignmentId ?? null],
    );
    expect(team?.kit_id).toBe('demo-02');
  });

  it('deploys the curriculum flows and the gas alarm, which earns the flow task its points on a simulated kit', async () => {
    const editor = lab.platform.flows;
    if (!editor) throw new Error('flows not running');
    await deployDemoFlows(editor);
    const tabs = (await editor.flows()).filter((node) => node.type === 'tab').map((node) => node.id);
    expect(tabs).toEqual([
      ...CURRICULUM_FLOWS.map((name) => tabOf(curriculumFlow(name)).id),
      'iotlab-threshold-alarm-gas',
    ]);

    // The flows listen once Node-RED's connection holds the telemetry subscription.
    await eventually(
      () =>
        Object.values(
          (
            lab.platform.broker.aedes as unknown as {
              clients: Record<string, { id: string; subscriptions: Record<string, unknown> }>;
            }
          ).clients,
        ).some(
          (client) => client.id.startsWith('nodered') && 'iotlab/v1/kits/+/telemetry' in client.subscriptions,
        ),
      10_000,
      'the flows to subscribe',
    );
    const secret = await lab.platform.registry.rotateKitSecret('demo-02');
    const sim = pinnedSimKit(lab.mqttUrl, 'demo-02', secret, 'air-quality');
    const started = Date.now();
    sim.pin.gas = 150;
    await sim.kit.start();
    try {
      await eventually(async () => (await readings('gas')).length >= 3, 10_000, 'quiet gas readings');
      sim.pin.gas = 900; // a leak
      await eventually(
        () => sim.commands.some((c) => c.command === 'buzzer' && c.value === 1),
        10_000,
        'the buzzer command',
      );
      sim.pin.gas = 150;
      await eventually(
        () => sim.commands.some((c) => c.command === 'buzzer' && c.value === 0),
        10_000,
        'the buzzer off',
      );
    } finally {
      await sim.kit.stop();
    }

    const row = await lab.platform.labDb.get<{ rubric: string }>(
      'SELECT rubric FROM lab_tasks WHERE title = ?',
      [FLOW_TASK_TITLE],
    );
    const rubric = JSON.parse(row?.rubric ?? '{}') as Rubric;
    const window = { from: started - 1_000, to: Date.now() + 3_000 };
    await lab.platform.writer.flush();
    const grade = gradeAttempt(
      rubric,
      window,
      await loadGradingData(lab.platform.store, 'demo-02', window, ['gas']),
    );
    expect(grade.criteria.find((c) => c.id === 'alarm_in_time')).toMatchObject({ passed: true });
  });
});

async function readings(sensor: string) {
  await lab.platform.writer.flush();
  return lab.platform.store.readings({
    kitId: 'demo-02',
    sensor,
    from: Date.now() - 600_000,
    to: Date.now() + 60_000,
  });
}
