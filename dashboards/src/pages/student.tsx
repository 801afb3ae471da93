/** A student's page: my kits live (status, last reading, the broker's error messages, charts), my assignments with the rubric checklist turning green live, my grades. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, post, session } from '../api.ts';
import {
  ago,
  formatDateTime,
  formatNumber,
  formatTime,
  pick,
  readingText,
  sensorLabel,
  t,
  tOr,
} from '../i18n.ts';
import { follow, topics } from '../live.ts';
import { KitLiveCharts } from '../livechart.tsx';
import { bySensorRank } from '../sensors.ts';
import type {
  Assignment,
  Attempt,
  AttemptGrade,
  Kit,
  KitDetail,
  KitErrorMessage,
  List,
  LiveGrading,
  MyClass,
  Page,
} from '../types.ts';
import { Card, ConfirmButton, Dot, ErrorBox, Loading, useAsync, useNow } from '../ui.tsx';

export function StudentHome() {
  const kits = useAsync(async () => {
    const list = await get<List<Kit>>('/kits?limit=50');
    return Promise.all(list.items.map((kit) => get<KitDetail>(`/kits/${encodeURIComponent(kit.id)}`)));
  }, []);
  return (
    <div class="stack">
      <h1>{t('studentTitle', { name: session()?.user.displayName ?? '' })}</h1>
      <Assignments />
      <Card title={t('myKits')} test="my-kits">
        <ErrorBox error={kits.error} />
        {kits.loading && !kits.data ? <Loading /> : null}
        {kits.data?.length === 0 ? <p class="muted">{t('noKits')}</p> : null}
        {kits.data?.map((kit) => (
          <KitPanel key={kit.id} kit={kit} />
        ))}
      </Card>
      <Grades />
    </div>
  );
}

function KitPanel({ kit }: { kit: KitDetail }) {
  const now = useNow(1000);
  const [online, setOnline] = useState(kit.connection?.online ?? false);
  const [latest, setLatest] = useState<Record<string, { ts: number; value: number }>>(kit.latest);
  const [errors, setErrors] = useState<KitErrorMessage[]>([]);
  useEffect(
    () =>
      follow([topics.kit(kit.id, 'status')], (payload) => {
        const state = (payload as { state?: string }).state;
        if (state === 'online' || state === 'offline') setOnline(state === 'online');
      }),
    [kit.id],
  );
  useEffect(() => {
    // What the platform told the kit before this page opened, then every new report live.
    get<List<KitErrorMessage>>(`/dashboard/kits/${encodeURIComponent(kit.id)}/errors`).then(
      (answer) => setErrors((live) => [...live, ...answer.items].slice(0, 8)),
      () => {},
    );
    return follow([topics.kit(kit.id, 'errors')], (payload) => {
      setErrors((list) => [payload as KitErrorMessage, ...list].slice(0, 8));
    });
  }, [kit.id]);
  const onReading = useCallback((sensor: string, ts: number, value: number) => {
    setLatest((current) => ({ ...current, [sensor]: { ts, value } }));
  }, []);
  const lastAt = Math.max(0, ...Object.values(latest).map((point) => point.ts));
  const units = Object.fromEntries(Object.entries(kit.latest).map(([sensor, point]) => [sensor, point.unit]));
  const sensors = [...new Set([...kit.sensors, ...Object.keys(kit.latest)])].filter(
    (sensor) => !sensor.startsWith('@') && !sensor.startsWith('_'),
  );
  return (
    <article class="kit" data-test={`kit-${kit.id}`}>
      <header class="row">
        <Dot on={online} label={online ? t('online') : t('offline')} />
        <strong>{kit.name || kit.id}</strong>
        <code>{kit.id}</code>
        <span class={online ? 'ok' : 'bad'} data-test="kit-state">
          {online ? t('online') : t('offline')}
        </span>
        <span class="muted">
          {t('lastReading')}: {lastAt ? ago(lastAt, now) : t('never')}
        </span>
      </header>
      <dl class="readings" data-test="latest">
        {Object.entries(latest)
          .filter(([sensor]) => !sensor.startsWith('@') && !sensor.startsWith('_'))
          .sort(([a], [b]) => bySensorRank(a, b))
          .map(([sensor, point]) => (
            <div key={sensor}>
              <dt>{sensorLabel(sensor)}</dt>
              <dd>{readingText(sensor, point.value, units[sensor])}</dd>
            </div>
          ))}
      </dl>
      <details class="errors" open={errors.length > 0} data-test="kit-errors">
        <summary>
          {t('kitErrors')} ({errors.length})
        </summary>
        {errors.length === 0 ? <p class="muted">{t('noKitErrors')}</p> : null}
        <ul>
          {errors.map((error, i) => (
            <li key={`${error.ts}-${i}`} class={`sev-${error.severity}`}>
              {/* The code stays: it is the key to the protocol document's table of errors. */}
              <span class="muted">{formatTime(error.ts)}</span> <code>{error.code}</code>{' '}
              {tOr(`kitProblem_${error.code}`, error.message)}
              {error.sensor ? ` (${error.sensor})` : ''}
              {error.repeated ? ` (+${error.repeated})` : ''}
            </li>
          ))}
        </ul>
      </details>
      <KitLiveCharts kitId={kit.id} sensors={sensors} units={units} onReading={onReading} />
    </article>
  );
}

/**
 * The rubric checklist of a running attempt, from its live grading topic. Each criterion is
 * passed (green ✔), failed (red ✘) or pending — not enough data to judge it yet: neutral, "等待中",
 * its sentence saying what it waits for. `data-state` is `pass`, `fail` or `pending`;
 * `data-passed` stays "true" only when it passed.
 */
export function LiveChecklist({ attemptId }: { attemptId: string }) {
  const [state, setState] = useState<LiveGrading | null>(null);
  useEffect(
    () =>
      follow([topics.grading(attemptId)], (payload) => {
        if (payload && typeof payload === 'object') setState(payload as LiveGrading);
      }),
    [attemptId],
  );
  if (!state) return <p class="muted">{t('waitingForGrading')}</p>;
  return (
    <div class="checklist" data-test={`checklist-${attemptId}`}>
      <p>
        <strong data-test="live-score">
          {formatNumber(state.score, 1)} / {formatNumber(state.maxScore, 0)}
        </strong>{' '}
        {state.passed ? <span class="ok">{t('allPassed')}</span> : null}
      </p>
      <ul>
        {state.criteria.map((criterion) => {
          const look = criterion.pending ? 'pending' : criterion.passed ? 'pass' : 'fail';
          return (
            <li
              key={criterion.id}
              class={look}
              data-test={`criterion-${criterion.id}`}
              data-passed={String(criterion.passed)}
              data-state={look}
            >
              <span class={look === 'pending' ? 'mark muted' : 'mark'}>
                {look === 'pending' ? '…' : look === 'pass' ? '✔' : '✘'}
              </span>
              <strong>{pick(criterion.title)}</strong>
              {look === 'pending' ? (
                <span class="badge" title={t('criterionPendingHint')} data-test="criterion-pending">
                  {t('criterionPending')}
                </span>
              ) : null}
              <span class="muted">
                {look === 'pending' ? '–' : formatNumber(criterion.score, 1)}/{criterion.weight}
              </span>
              <div class="explain">{pick(criterion.explanation)}</div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Assignments() {
  const data = useAsync(async () => {
    const [assignments, attempts, classes, kits] = await Promise.all([
      get<Page<Assignment>>('/me/assignments?limit=50'),
      get<Page<Attempt>>('/me/attempts?limit=50'),
      get<Page<MyClass>>('/me/classes'),
      get<List<Kit>>('/kits?limit=50'),
    ]);
    return {
      assignments: assignments.items,
      attempts: attempts.items,
      classes: classes.items,
      kits: kits.items.filter((kit) => kit.active),
    };
  }, []);
  // With several kits (theirs and their team's), the student says which one the attempt is on.
  const [kitChoice, setKitChoice] = useState('');
  const kits = data.data?.kits ?? [];
  const chosenKit = kits.some((kit) => kit.id === kitChoice) ? kitChoice : (kits[0]?.id ?? '');
  const [error, setError] = useState<unknown>(null);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      data.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Card title={t('myAssignments')} test="my-assignments">
      <ErrorBox error={data.error ?? error} />
      {data.loading && !data.data ? <Loading /> : null}
      {data.data?.assignments.length === 0 ? <p class="muted">{t('noAssignments')}</p> : null}
      {data.data?.assignments.map((assignment) => {
        const running = data.data?.attempts.find(
          (a) => a.assignmentId === assignment.id && a.endedAt === null,
        );
        const cls = data.data?.classes.find((c) => c.id === assignment.classId);
        const session = cls?.activeSession ?? null;
        return (
          <article key={assignment.id} class="assignment" data-test={`assignment-${assignment.id}`}>
            <header class="row">
              <strong>{assignment.taskTitle}</strong>
              <span class={`badge ${assignment.status}`}>{t(`status_${assignment.status}`)}</span>
              <span class="muted">
                {t('due')}: {formatDateTime(assignment.dueAt)}
              </span>
              {session ? (
                <a href={`#/board/${session.id}`} class="button secondary">
                  {t('leaderboard')}
                </a>
              ) : null}
            </header>
            {running ? (
              <>
                <p class="muted">
                  {t('attemptRunning', { kit: running.kitId, since: formatDateTime(running.startedAt) })}
                </p>
                <LiveChecklist attemptId={running.id} />
                <ConfirmButton
                  label={t('endAttempt')}
                  question={t('confirmEndAttempt')}
                  confirm={t('confirmEnd')}
                  onConfirm={() => act(() => post(`/attempts/${running.id}/end`))}
                  test="end-attempt"
                />
              </>
            ) : session &&
              assignment.status === 'open' &&
              (session.assignmentId ?? assignment.id) === assignment.id ? (
              <p class="row">
                {kits.length > 1 ? (
                  <label class="inline">
                    {t('chooseKit')}
                    <select
                      value={chosenKit}
                      onChange={(e) => setKitChoice(e.currentTarget.value)}
                      data-test="kit-choice"
                    >
                      {kits.map((kit) => (
                        <option key={kit.id} value={kit.id}>
                          {kit.name} ({kit.id}) · {kit.connection?.online ? t('online') : t('offline')}
                        </option>
                      ))}
                    </select>
                  </label>
                ) : null}
                <button
                  type="button"
                  onClick={() =>
                    act(() =>
                      post(
                        `/assignments/${assignment.id}/attempts`,
                        kits.length > 1 ? { kitId: chosenKit } : {},
                      ),
                    )
                  }
                >
                  {t('startAttempt')}
                </button>
              </p>
            ) : (
              <p class="muted">{t('noSessionRunning')}</p>
            )}
          </article>
        );
      })}
    </Card>
  );
}

function Grades() {
  const data = useAsync(async () => {
    const attempts = await get<Page<Attempt>>('/me/attempts?limit=20');
    const ended = attempts.items.filter((a) => a.endedAt !== null).slice(0, 10);
    return Promise.all(
      ended.map((attempt) => get<AttemptGrade>(`/attempts/${attempt.id}/grade`).catch(() => null)),
    );
  }, []);
  return (
    <Card title={t('myGrades')} test="my-grades">
      <ErrorBox error={data.error} />
      {data.loading && !data.data ? <Loading /> : null}
      {data.data?.length === 0 ? <p class="muted">{t('noGrades')}</p> : null}
      <table class="cards">
        <tbody>
          {data.data?.map((grade) =>
            grade ? (
              <tr key={grade.attempt.id}>
                <td>
                  <strong>{grade.task.title}</strong>
                </td>
                <td class="nowrap">{formatDateTime(grade.attempt.startedAt)}</td>
                <td class="nowrap" data-test="grade-status">
                  {t(`grade_${grade.final.status}`)}
                </td>
                <td class="nowrap">
                  <strong>{formatNumber(grade.final.score, 1)}</strong>
                </td>
                <td class="nowrap">
                  <a href={`#/review/${grade.attempt.id}`}>{t('evidence')}</a>
                </td>
              </tr>
            ) : null,
          )}
        </tbody>
      </table>
    </Card>
  );
}
