import {
  CURRICULUM_FLOWS,
  curriculumFlow,
  type FlowNode,
  type FlowsEditor,
  flowVariant,
} from '../flows/index.ts';
import type { Person } from '../lab-api/index.ts';
import { Assignments, Classes, LabTasks } from '../lab-api/index.ts';
import type { LabDb } from '../labdb/index.ts';

/** The demo's lab task graded on a flow's effect, and the simulated kit it runs on. */
export const FLOW_TASK_TITLE = '燃气泄漏报警流程（Node-RED）';
export const DEMO_ALARM_KIT = 'demo-02';

/**
 * The rubric of the flow task: the kit must be told to sound its buzzer within 2 s of the gas
 * crossing 400 ppm. The kit's own firmware does not send commands, so only a flow (or another
 * platform program) can earn it: this grades the student's flow by its effect.
 */
export const FLOW_TASK_RUBRIC = {
  criteria: [
    {
      id: 'alarm_in_time',
      title: {
        'zh-CN': '2 秒内报警（蜂鸣器命令）',
        en: 'Buzzer command within 2 s of the gas crossing 400 ppm',
      },
      weight: 80,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'gas', above: 400, respondWith: { command: 'buzzer' }, withinSeconds: 2 },
    },
    {
      id: 'gas_reported',
      title: { 'zh-CN': '燃气数据持续上报', en: 'Gas readings keep coming' },
      weight: 20,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'gas', maxIntervalSeconds: 5, minMinutes: 5 },
    },
  ],
};

/** The demo's answer to the flow task: the shipped threshold alarm, set for gas at 400/300 ppm. */
export function demoGasAlarmFlow(): FlowNode[] {
  return flowVariant(curriculumFlow('threshold-alarm'), {
    idSuffix: '-gas',
    label: 'Gas alarm (demo task) · 燃气报警',
    env: { SENSOR: 'gas', ABOVE: 400, CLEAR_BELOW: 300 },
  });
}

/** Deploys the four curriculum flows and the demo's gas alarm beside whatever runs. */
export async function deployDemoFlows(flows: FlowsEditor): Promise<void> {
  await flows.deployCurriculum(CURRICULUM_FLOWS, demoGasAlarmFlow());
}

/**
 * Adds the flow task to the demo project (once) and assigns it to the team of the gas kit, open
 * for a week. Returns the task and assignment ids.
 */
export async function seedFlowTask(
  db: LabDb,
  kitId = DEMO_ALARM_KIT,
): Promise<{ taskId: string; assignmentId: string | undefined }> {
  const existing = await db.get<{ id: string }>('SELECT id FROM lab_tasks WHERE title = ?', [
    FLOW_TASK_TITLE,
  ]);
  if (existing) {
    const assignment = await db.get<{ id: string }>('SELECT id FROM assignments WHERE task_id = ?', [
      existing.id,
    ]);
    return { taskId: existing.id, assignmentId: assignment?.id };
  }
  const teacher = await db.get<{ id: string; organisation_id: string | null; display_name: string }>(
    "SELECT id, organisation_id, display_name FROM users WHERE username = 'teacher.chen'",
  );
  const project = await db.get<{ id: string }>(
    "SELECT id FROM projects WHERE title = '温室大棚环境智能监测'",
  );
  if (!teacher || !project) throw new Error('the demo lab is not seeded');
  const instructor: Person = {
    kind: 'user',
    id: teacher.id,
    username: 'teacher.chen',
    role: 'instructor',
    organisationId: teacher.organisation_id,
    displayName: teacher.display_name,
  };
  const tasks = new LabTasks(db);
  const task = await tasks.createTask(instructor, {
    projectId: project.id,
    title: FLOW_TASK_TITLE,
    instructions:
      '## 任务\n在 Node-RED 编辑器（平台的 /flows）中搭建报警流程：订阅套件的 telemetry，燃气浓度 gas 高于 400 ppm 时，' +
      '2 秒内向该套件的 commands 主题发送 `{"command":"buzzer","value":1}`，低于 300 ppm 时关闭。\n' +
      '参考课程流程「Threshold alarm · 超温报警」（flows/curriculum/threshold-alarm.md）。\n\n' +
      '## Task\nIn the Node-RED editor (/flows), build an alarm flow: when a kit reports gas above 400 ppm, ' +
      'send it `{"command":"buzzer","value":1}` within 2 s; switch it off below 300 ppm. Graded on the commands the kit received.',
    requiredSensors: ['gas'],
    requiredActuators: ['buzzer'],
    skills: ['node-red', 'mqtt', 'alarm logic'],
    durationMinutes: 45,
    mentorWeight: 0,
    rubric: FLOW_TASK_RUBRIC,
  });
  await tasks.setTaskStatus(instructor, task.id, task.version, 'published');
  const binding = await db.get<{ team_id: string | null; class_id: string | null }>(
    'SELECT b.team_id, t.class_id FROM kit_bindings b JOIN teams t ON t.id = b.team_id WHERE b.kit_id = ?',
    [kitId],
  );
  if (!binding?.team_id || !binding.class_id) return { taskId: task.id, assignmentId: undefined };
  const now = Date.now();
  const assignment = await new Assignments(db, new Classes(db)).createAssignment(
    instructor,
    binding.class_id,
    {
      taskId: task.id,
      opensAt: now - 60_000,
      dueAt: now + 7 * 86_400_000,
      teamIds: [binding.team_id],
    },
  );
  return { taskId: task.id, assignmentId: assignment.id };
}
