/** Enterprise mentors: their projects and lab tasks, a rubric editor that checks as you type, the teams on each project, and attempts to review and score. */
import { useState } from 'preact/hooks';
import { call, get, post } from '../api.ts';
import { AssignTask } from '../assign.tsx';
import { currentLang, formatDateTime, formatNumber, t, tOr } from '../i18n.ts';
import {
  type CriterionTypeInfo,
  checkRubric,
  type EditableCriterion,
  loadCriterionTypes,
  toEditable,
} from '../rubric.ts';
import type { List, MentorAttempt, Page, Project, Task, TaskSummary, Team } from '../types.ts';
import { Card, ErrorBox, Loading, useAsync } from '../ui.tsx';

export function MentorHome() {
  const projects = useAsync(() => get<Page<Project>>('/projects?limit=100'), []);
  const attempts = useAsync(() => get<List<MentorAttempt>>('/dashboard/mentor/attempts?limit=100'), []);
  return (
    <div class="stack">
      <h1>{t('mentorTitle')}</h1>
      <ErrorBox error={projects.error} />
      {projects.loading && !projects.data ? <Loading /> : null}
      {projects.data?.items.map((project) => (
        <ProjectCard key={project.id} project={project} onChange={projects.reload} />
      ))}
      <NewProject onDone={projects.reload} />
      <Card title={t('attemptsToReview')} test="mentor-attempts">
        <ErrorBox error={attempts.error} />
        {attempts.data?.items.length === 0 ? <p class="muted">{t('noAttempts')}</p> : null}
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>{t('task')}</th>
                <th>{t('class')}</th>
                <th>{t('team')}</th>
                <th>{t('name')}</th>
                <th>{t('started')}</th>
                <th>{t('mentorScore')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {attempts.data?.items.map((a) => (
                <tr key={a.attemptId}>
                  <td>{a.taskTitle}</td>
                  <td>{a.className}</td>
                  <td>{a.teamName}</td>
                  <td>{a.studentName}</td>
                  <td>
                    {formatDateTime(a.startedAt)}{' '}
                    {a.endedAt === null ? <span class="badge open">{t('running')}</span> : null}
                  </td>
                  <td>{a.mentorWeight > 0 ? formatNumber(a.mentorScore, 1) : '—'}</td>
                  <td>
                    <a href={`#/review/${a.attemptId}`} data-test="mentor-review">
                      {t('reviewAndScore')}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}

function ProjectCard({ project, onChange }: { project: Project; onChange: () => void }) {
  const tasks = useAsync(
    () => get<Page<TaskSummary>>(`/tasks?projectId=${project.id}&limit=100`),
    [project.id],
  );
  const teams = useAsync(() => get<Page<Team>>(`/teams?projectId=${project.id}&limit=200`), [project.id]);
  const [error, setError] = useState<unknown>(null);
  const [title, setTitle] = useState('');
  const publish = async () => {
    setError(null);
    try {
      await call('POST', `/projects/${project.id}/publish`, { ifMatch: `"${project.version}"` });
      onChange();
    } catch (failure) {
      setError(failure);
    }
  };
  const addTask = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const { body } = await call<Task>('POST', '/tasks', {
        body: {
          projectId: project.id,
          title,
          requiredSensors: ['temperature', 'humidity'],
          durationMinutes: 45,
          mentorWeight: 20,
          rubric: { criteria: [] },
        },
      });
      location.hash = `/mentor/task/${body.id}`;
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Card title={project.title} test={`project-${project.id}`}>
      <p class="row">
        <span class={`badge ${project.status}`}>{tOr(`pstatus_${project.status}`, project.status)}</span>
        <span class="muted">{project.requiredSkills.join(' · ')}</span>
        {project.status === 'draft' ? (
          <button type="button" class="secondary" onClick={publish}>
            {t('publish')}
          </button>
        ) : null}
      </p>
      <p class="small">{project.background}</p>
      <h3>{t('labTasks')}</h3>
      <ul class="plain">
        {tasks.data?.items.map((task) => (
          <li key={task.id}>
            <a href={`#/mentor/task/${task.id}`}>{task.title}</a>{' '}
            <span class={`badge ${task.status}`}>{tOr(`pstatus_${task.status}`, task.status)}</span>{' '}
            <span class="muted small">{t('mentorWeightIs', { w: task.mentorWeight })}</span>
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={addTask}>
        <input
          aria-label={t('newTaskTitle')}
          placeholder={t('newTaskTitle')}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
          required
        />
        <button type="submit">{t('addTask')}</button>
      </form>
      <h3>{t('teamsOnProject')}</h3>
      {teams.data?.items.length === 0 ? <p class="muted small">{t('noTeamsOnProject')}</p> : null}
      <p class="small">{teams.data?.items.map((team) => `${team.className} ${team.name}`).join('、')}</p>
      <p class="muted small">{t('assignHint')}</p>
      <ErrorBox error={error} />
      {teams.data?.items.length ? (
        <AssignTask
          tasks={tasks.data?.items.filter((task) => task.status === 'published')}
          teams={teams.data.items}
          hint={t('projectTeamsHint')}
          onDone={onChange}
        />
      ) : null}
    </Card>
  );
}

function NewProject({ onDone }: { onDone: () => void }) {
  const [title, setTitle] = useState('');
  const [background, setBackground] = useState('');
  const [skills, setSkills] = useState('esp32, mqtt');
  const [difficulty, setDifficulty] = useState(2);
  const [error, setError] = useState<unknown>(null);
  return (
    <Card title={t('newProject')}>
      <form
        class="stack"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(null);
          try {
            await post('/projects', {
              title,
              background,
              requiredSkills: skills
                .split(/[,，\s]+/)
                .map((s) => s.trim())
                .filter(Boolean),
              difficulty,
            });
            setTitle('');
            setBackground('');
            onDone();
          } catch (failure) {
            setError(failure);
          }
        }}
      >
        <label>
          {t('title')}
          <input value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
        </label>
        <label>
          {t('background')}
          <textarea rows={2} value={background} onInput={(e) => setBackground(e.currentTarget.value)} />
        </label>
        <label>
          {t('skills')}
          <input value={skills} onInput={(e) => setSkills(e.currentTarget.value)} />
        </label>
        <label>
          {t('difficulty')}
          <input
            type="number"
            min={1}
            max={5}
            value={difficulty}
            onInput={(e) => setDifficulty(Number(e.currentTarget.value))}
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit">{t('create')}</button>
      </form>
    </Card>
  );
}

/** A lab task and its rubric editor. */
export function MentorTask({ taskId }: { taskId: string }) {
  const task = useAsync(() => call<Task>('GET', `/tasks/${taskId}`), [taskId]);
  // The criterion types (grading's registry) come in a chunk of their own, with the editor.
  const types = useAsync(loadCriterionTypes, []);
  if ((task.loading && !task.data) || (types.loading && !types.data)) return <Loading />;
  if (!task.data) return <ErrorBox error={task.error} />;
  if (!types.data) return <ErrorBox error={types.error} />;
  return (
    <RubricEditor key={task.data.body.id} task={task.data.body} etag={task.data.etag} types={types.data} />
  );
}

function RubricEditor(props: { task: Task; etag: string | null; types: CriterionTypeInfo[] }) {
  const { types } = props;
  const typeOf = (type: string) => types.find((info) => info.type === type);
  const [task, setTask] = useState(props.task);
  const [etag, setEtag] = useState(props.etag);
  const [criteria, setCriteria] = useState<EditableCriterion[]>(toEditable(task.rubric.criteria));
  const [sensorsText, setSensorsText] = useState(task.requiredSensors.join(', '));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const requiredSensors = sensorsText
    .split(/[,，\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const { problems, rubric } = checkRubric(criteria, requiredSensors);
  const update = (index: number, change: Partial<EditableCriterion>) => {
    setSaved(false);
    setCriteria((list) => list.map((c, i) => (i === index ? { ...c, ...change } : c)));
  };
  const add = () => {
    const type = 'range';
    setCriteria((list) => [
      ...list,
      {
        id: `criterion_${list.length + 1}`,
        title: { 'zh-CN': '', en: '' },
        weight: Math.max(0, 100 - list.reduce((sum, c) => sum + (c.weight || 0), 0)),
        partialCredit: true,
        type,
        paramsText: JSON.stringify(typeOf(type)?.template ?? {}, null, 1),
      },
    ]);
  };
  const save = async () => {
    if (!rubric) return;
    setError(null);
    setSaved(false);
    try {
      // The ETag read goes back in If-Match: someone else's change meanwhile gives 412, not a silent overwrite.
      const answer =
        requiredSensors.join(',') !== task.requiredSensors.join(',')
          ? await call<Task>('PATCH', `/tasks/${task.id}`, {
              body: { requiredSensors, rubric },
              ifMatch: etag,
            })
          : await call<Task>('PUT', `/tasks/${task.id}/rubric`, { body: rubric, ifMatch: etag });
      setTask(answer.body);
      setEtag(answer.etag);
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  };
  const publish = async () => {
    setError(null);
    try {
      const answer = await call<Task>('POST', `/tasks/${task.id}/publish`, { ifMatch: etag });
      setTask(answer.body);
      setEtag(answer.etag);
    } catch (failure) {
      setError(failure);
    }
  };
  const sum = criteria.reduce((total, c) => total + (Number.isFinite(c.weight) ? c.weight : 0), 0);
  return (
    <div class="stack">
      <h1>
        {t('rubricEditor')} · {task.title}
      </h1>
      <p class="row">
        <span class={`badge ${task.status}`}>{tOr(`pstatus_${task.status}`, task.status)}</span>
        <span class="muted">{t('mentorWeightIs', { w: task.mentorWeight })}</span>
        {task.status === 'draft' ? (
          <button type="button" class="secondary" onClick={publish}>
            {t('publish')}
          </button>
        ) : null}
      </p>
      <label>
        {t('requiredSensors')}
        <input value={sensorsText} onInput={(e) => setSensorsText(e.currentTarget.value)} />
      </label>
      <div class="criteria-editor" data-test="rubric-editor">
        {criteria.map((c, index) => {
          const own = problems.filter((p) => p.index === index);
          return (
            <fieldset key={index} class={own.length > 0 ? 'invalid' : ''} data-test={`rubric-row-${index}`}>
              <legend>
                #{index + 1} {c.id}
              </legend>
              <div class="grid four">
                <label>
                  {t('criterionId')}
                  <input
                    name="id"
                    value={c.id}
                    onInput={(e) => update(index, { id: e.currentTarget.value })}
                  />
                </label>
                <label>
                  {t('titleZh')}
                  <input
                    name="title-zh"
                    value={c.title['zh-CN']}
                    onInput={(e) => update(index, { title: { ...c.title, 'zh-CN': e.currentTarget.value } })}
                  />
                </label>
                <label>
                  {t('titleEn')}
                  <input
                    name="title-en"
                    value={c.title.en}
                    onInput={(e) => update(index, { title: { ...c.title, en: e.currentTarget.value } })}
                  />
                </label>
                <label>
                  {t('weight')}
                  <input
                    name="weight"
                    type="number"
                    min={0}
                    max={100}
                    value={c.weight}
                    onInput={(e) => update(index, { weight: Number(e.currentTarget.value) })}
                  />
                </label>
                <label>
                  {t('criterionType')}
                  <select
                    name="type"
                    value={c.type}
                    title={typeOf(c.type)?.hint[currentLang()]}
                    onChange={(e) =>
                      update(index, {
                        type: e.currentTarget.value,
                        paramsText: JSON.stringify(typeOf(e.currentTarget.value)?.template ?? {}, null, 1),
                      })
                    }
                  >
                    {types.map((info) => (
                      <option key={info.type} value={info.type}>
                        {info.title[currentLang()]}
                      </option>
                    ))}
                  </select>
                </label>
                <label class="inline">
                  <input
                    type="checkbox"
                    checked={c.partialCredit}
                    onChange={(e) => update(index, { partialCredit: e.currentTarget.checked })}
                  />
                  {t('partialCredit')}
                </label>
              </div>
              <label>
                {t('params')}
                <textarea
                  name="params"
                  // As tall as its JSON (a line per parameter), so nothing is cut off.
                  rows={Math.max(4, c.paramsText.split('\n').length + 1)}
                  class="mono"
                  value={c.paramsText}
                  onInput={(e) => update(index, { paramsText: e.currentTarget.value })}
                />
              </label>
              {own.map((p, i) => (
                <p key={i} class="error small" data-test="rubric-problem">
                  {t(p.key, p.vars)}
                </p>
              ))}
              <button
                type="button"
                class="link danger"
                onClick={() => setCriteria((list) => list.filter((_, i) => i !== index))}
              >
                {t('remove')}
              </button>
            </fieldset>
          );
        })}
      </div>
      <p class={Math.abs(sum - 100) < 1e-9 ? 'ok' : 'bad'} data-test="weights-sum">
        {t('weightsSum', { sum })}
      </p>
      {problems
        .filter((p) => p.index === null)
        .map((p, i) => (
          <p key={i} class="error" data-test="rubric-problem">
            {t(p.key, p.vars)}
          </p>
        ))}
      <ErrorBox error={error} />
      {saved ? <p class="ok">{t('saved')}</p> : null}
      <p class="row">
        <button type="button" class="secondary" onClick={add}>
          {t('addCriterion')}
        </button>
        <button type="button" onClick={save} disabled={!rubric} data-test="save-rubric">
          {t('saveRubric')}
        </button>
      </p>
    </div>
  );
}
