/** Assigning a lab task to teams: the instructor's class page and the mentor's project page. */
import { useState } from 'preact/hooks';
import { call } from './api.ts';
import { t } from './i18n.ts';
import type { TaskSummary, Team } from './types.ts';
import { Card, ErrorBox } from './ui.tsx';

/**
 * Picks a task, the teams (none chosen: all of them) and the due date; one assignment per class
 * of the teams chosen (a project's teams may sit in several classes).
 */
export function AssignTask({
  tasks,
  teams,
  hint,
  onDone,
}: {
  tasks: TaskSummary[] | undefined;
  teams: Team[] | undefined;
  hint: string;
  onDone: () => void;
}) {
  const [taskId, setTaskId] = useState('');
  const [days, setDays] = useState(7);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setDone(false);
    try {
      const now = Date.now();
      const picked = (teams ?? []).filter((team) => chosen.size === 0 || chosen.has(team.id));
      const byClass = new Map<string, string[]>();
      for (const team of picked) byClass.set(team.classId, [...(byClass.get(team.classId) ?? []), team.id]);
      for (const [classId, teamIds] of byClass) {
        await call('POST', `/classes/${classId}/assignments`, {
          body: { taskId: taskId || tasks?.[0]?.id, opensAt: now, dueAt: now + days * 86_400_000, teamIds },
        });
      }
      setDone(true);
      onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  const classes = new Set((teams ?? []).map((team) => team.classId)).size;
  return (
    <Card title={t('assignTask')} test="assign-task">
      <form class="stack" onSubmit={submit}>
        <label>
          {t('task')}
          <select value={taskId || tasks?.[0]?.id} onChange={(e) => setTaskId(e.currentTarget.value)}>
            {tasks?.map((task) => (
              <option key={task.id} value={task.id}>
                {task.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('dueInDays')}
          <input
            type="number"
            min={1}
            max={120}
            value={days}
            onInput={(e) => setDays(Number(e.currentTarget.value))}
          />
        </label>
        <fieldset>
          <legend>{hint}</legend>
          <div class="chips">
            {teams?.map((team) => (
              <label key={team.id} class="inline">
                <input
                  type="checkbox"
                  checked={chosen.has(team.id)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.currentTarget.checked) next.add(team.id);
                    else next.delete(team.id);
                    setChosen(next);
                  }}
                />
                {classes > 1 ? `${team.className} ${team.name}` : team.name}
              </label>
            ))}
          </div>
        </fieldset>
        <ErrorBox error={error} />
        {done ? <p class="ok">{t('assigned')}</p> : null}
        <button type="submit" disabled={!tasks?.length || !teams?.length}>
          {t('assign')}
        </button>
      </form>
    </Card>
  );
}
