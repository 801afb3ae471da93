/** Instructors: their classes, the class board (every kit live, who is stuck, the lab session), and assessment review. */
import type { ECharts } from 'echarts/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { download, get, post } from '../api.ts';
import { AssignTask } from '../assign.tsx';
import { Chart, type ChartOption, PALETTE, Window } from '../chart.tsx';
import {
  adjustmentText,
  ago,
  formatDateTime,
  formatNumber,
  pick,
  readingText,
  sensorLabel,
  t,
} from '../i18n.ts';
import { follow, topics } from '../live.ts';
import { messageTime, readingsOf } from '../livechart.tsx';
import { boardSensors } from '../sensors.ts';
import { onTick } from '../ticker.ts';
import type {
  Assignment,
  AssignmentGrades,
  AssignmentStatistics,
  Attempt,
  Board,
  BoardKit,
  ClassInfo,
  KitErrorMessage,
  LiveGrading,
  Page,
  TaskSummary,
  Team,
  TelemetryMessage,
} from '../types.ts';
import { Card, ConfirmButton, Dot, ErrorBox, Loading, useAsync } from '../ui.tsx';

export function InstructorHome() {
  const classes = useAsync(() => get<Page<ClassInfo>>('/classes?limit=200'), []);
  return (
    <div class="stack">
      <h1>{t('myClasses')}</h1>
      <ErrorBox error={classes.error} />
      {classes.loading && !classes.data ? <Loading /> : null}
      <div class="grid cards">
        {classes.data?.items.map((cls) => (
          <Card key={cls.id} title={cls.name} test={`class-${cls.name}`}>
            <p class="muted">
              {cls.term} · {t('studentsCount', { n: cls.studentCount })} ·{' '}
              {t('teamsCount', { n: cls.teamCount })}
            </p>
            <p class="row">
              <a class="button" href={`#/instructor/class/${cls.id}`}>
                {t('classBoard')}
              </a>
              <a class="button secondary" href={`#/instructor/class/${cls.id}/review`}>
                {t('assessment')}
              </a>
              <a class="button secondary" href={`#/instructor/class/${cls.id}/roster`}>
                {t('rosterAndKits')}
              </a>
            </p>
          </Card>
        ))}
      </div>
    </div>
  );
}

export function ClassTabs({ classId, active }: { classId: string; active: 'board' | 'review' | 'roster' }) {
  return (
    <nav class="tabs">
      <a class={active === 'board' ? 'active' : ''} href={`#/instructor/class/${classId}`}>
        {t('classBoard')}
      </a>
      <a class={active === 'review' ? 'active' : ''} href={`#/instructor/class/${classId}/review`}>
        {t('assessment')}
      </a>
      <a class={active === 'roster' ? 'active' : ''} href={`#/instructor/class/${classId}/roster`}>
        {t('rosterAndKits')}
      </a>
    </nav>
  );
}

/** What makes a kit's team "stuck": the instructor should walk over. */
type StuckReason = 'offline' | 'silent' | 'errors' | 'notPassing';
const SILENT_MS = 30_000;
const ERROR_RECENT_MS = 60_000;
const NOT_PASSING_AFTER_MS = 10 * 60_000;

export function ClassBoard({ classId }: { classId: string }) {
  const board = useAsync(() => get<Board>(`/dashboard/classes/${classId}/board?minutes=5`), [classId]);
  const [onlyStuck, setOnlyStuck] = useState(false);
  const [stuck, setStuck] = useState<Record<string, StuckReason[]>>({});
  const report = useCallback((kitId: string, reasons: StuckReason[]) => {
    setStuck((current) => {
      const before = current[kitId] ?? [];
      if (before.length === reasons.length && before.every((r, i) => r === reasons[i])) return current;
      return { ...current, [kitId]: reasons };
    });
  }, []);
  const stuckCount = Object.values(stuck).filter((reasons) => reasons.length > 0).length;
  const data = board.data;
  return (
    <div class="stack">
      <h1>
        {t('classBoard')} · {data?.className ?? ''}
      </h1>
      <ClassTabs classId={classId} active="board" />
      <ErrorBox error={board.error} />
      {board.loading && !data ? <Loading /> : null}
      {data ? <SessionBar board={data} onChange={board.reload} /> : null}
      {data ? (
        <p class="row">
          <span data-test="kit-count">{t('kitsCount', { n: data.kits.length })}</span>
          <span class={stuckCount > 0 ? 'bad' : 'ok'} data-test="stuck-count">
            {t('stuckCount', { n: stuckCount })}
          </span>
          <label class="inline">
            <input
              type="checkbox"
              checked={onlyStuck}
              onChange={(e) => setOnlyStuck(e.currentTarget.checked)}
            />
            {t('onlyStuck')}
          </label>
        </p>
      ) : null}
      <div class="grid board" data-test="board">
        {data?.kits.map((kit) => (
          <KitCard
            key={kit.kitId}
            kit={kit}
            from={data.from}
            hidden={onlyStuck && (stuck[kit.kitId]?.length ?? 0) === 0}
            onStuck={report}
          />
        ))}
      </div>
    </div>
  );
}

function SessionBar({ board, onChange }: { board: Board; onChange: () => void }) {
  const open = board.assignments.filter((a) => a.status === 'open');
  const [assignmentId, setAssignmentId] = useState(open[0]?.id ?? '');
  const [error, setError] = useState<unknown>(null);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      onChange();
    } catch (failure) {
      setError(failure);
    }
  };
  const session = board.session;
  return (
    <div class="card session" data-test="session">
      {session ? (
        <p class="row">
          <Dot on label={t('sessionRunning')} />
          <strong data-test="session-state">{t('sessionRunning')}</strong>
          <span>{session.taskTitle ?? ''}</span>
          <span class="muted">
            {t('since')} {formatDateTime(session.startedAt)}
          </span>
          <a class="button secondary" href={`#/board/${session.id}`} data-test="open-leaderboard">
            {t('leaderboard')}
          </a>
          <ConfirmButton
            label={t('endSession')}
            question={t('confirmEndSession', { n: board.kits.filter((kit) => kit.attempt).length })}
            confirm={t('confirmEnd')}
            onConfirm={() => act(() => post(`/sessions/${session.id}/end`))}
            test="end-session"
          />
        </p>
      ) : (
        <p class="row">
          <Dot on={false} label={t('noSession')} />
          <strong data-test="session-state">{t('noSession')}</strong>
          <select
            value={assignmentId}
            onChange={(e) => setAssignmentId(e.currentTarget.value)}
            aria-label={t('assignment')}
          >
            {open.map((a) => (
              <option key={a.id} value={a.id}>
                {a.taskTitle}
              </option>
            ))}
          </select>
          <button
            type="button"
            onClick={() =>
              act(() => post(`/classes/${board.classId}/sessions`, assignmentId ? { assignmentId } : {}))
            }
          >
            {t('startSession')}
          </button>
        </p>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

function KitCard(props: {
  kit: BoardKit;
  from: number;
  hidden: boolean;
  onStuck: (kitId: string, reasons: StuckReason[]) => void;
}) {
  const { kit, onStuck } = props;
  const [online, setOnline] = useState(kit.online);
  const [latest, setLatest] = useState(kit.latest);
  const [received, setGrading] = useState<LiveGrading | null>(null);
  // Only the running attempt's own state counts: not one of the kit's earlier attempt (a new
  // session), and none once the attempt ended (the session is over).
  const grading =
    received && kit.attempt && received.attemptId === kit.attempt.id && !received.ended ? received : null;
  const lastError = useRef<KitErrorMessage | null>(null);
  const lastErrorAt = useRef(0);
  const chart = useRef<ECharts | null>(null);
  const windows = useMemo(() => {
    const map = new Map<string, Window>();
    for (const sensor of kit.sensors) {
      const window = new Window(5 * 60_000);
      for (const [ts, value] of kit.history[sensor] ?? []) window.add(ts, value);
      map.set(sensor, window);
    }
    return map;
  }, [kit]);
  const sensors = boardSensors(kit.sensors);
  const lastSeen = useRef(Math.max(kit.lastSeen ?? 0, ...Object.values(kit.latest).map((p) => p.ts)));

  useEffect(() => {
    const stops = [
      follow([topics.kit(kit.kitId, 'telemetry')], (payload) => {
        const message = payload as TelemetryMessage;
        const ts = messageTime(message);
        const next: Record<string, { ts: number; value: number }> = {};
        for (const [sensor, value] of readingsOf(message)) {
          windows.get(sensor)?.add(ts, value);
          next[sensor] = { ts, value };
        }
        lastSeen.current = Date.now();
        setLatest((current) => ({ ...current, ...next }));
      }),
      follow([topics.kit(kit.kitId, 'status')], (payload) => {
        const state = (payload as { state?: string }).state;
        if (state === 'online' || state === 'offline') setOnline(state === 'online');
      }),
      follow([topics.kit(kit.kitId, 'errors')], (payload) => {
        lastError.current = payload as KitErrorMessage;
        lastErrorAt.current = Date.now();
      }),
    ];
    if (kit.attempt) {
      stops.push(
        follow([topics.grading(kit.attempt.id)], (payload) => {
          if (payload && typeof payload === 'object') setGrading(payload as LiveGrading);
        }),
      );
    }
    return () => {
      for (const stop of stops) stop();
    };
  }, [kit, windows]);

  // Once a second: slide the sparkline and re-check whether the team is stuck.
  const [reasons, setReasons] = useState<StuckReason[]>([]);
  useEffect(
    () =>
      onTick((now) => {
        const series = sensors.map((sensor) => {
          const window = windows.get(sensor);
          window?.trim(now);
          return { data: window?.points ?? [] };
        });
        chart.current?.setOption(
          { xAxis: { min: now - 5 * 60_000, max: now }, series },
          { lazyUpdate: true },
        );
        const next: StuckReason[] = [];
        if (!online) next.push('offline');
        else if (now - lastSeen.current > SILENT_MS) next.push('silent');
        if (now - lastErrorAt.current < ERROR_RECENT_MS) next.push('errors');
        if (kit.attempt && grading && !grading.passed && now - kit.attempt.startedAt > NOT_PASSING_AFTER_MS)
          next.push('notPassing');
        setReasons((current) =>
          current.length === next.length && current.every((r, i) => r === next[i]) ? current : next,
        );
      }),
    [online, grading, kit, windows],
  );
  useEffect(() => onStuck(kit.kitId, reasons), [reasons, kit.kitId, onStuck]);

  const onReady = useCallback((instance: ECharts | null) => {
    chart.current = instance;
  }, []);
  const option = useMemo<ChartOption>(
    () => ({
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      xAxis: { type: 'time', show: false },
      yAxis: sensors.map(() => ({ type: 'value' as const, show: false, scale: true })),
      tooltip: { show: false },
      series: sensors.map((sensor, i) => ({
        type: 'line' as const,
        name: sensor,
        yAxisIndex: i,
        showSymbol: false,
        silent: true,
        data: windows.get(sensor)?.points ?? [],
        lineStyle: { width: 1, color: PALETTE[i % PALETTE.length] },
      })),
    }),
    // Dependencies on purpose: built once per kit; updates go through setOption.
    [windows],
  );

  const isStuck = reasons.length > 0;
  return (
    <article
      class={`kitcard ${isStuck ? 'stuck' : ''} ${props.hidden ? 'hidden' : ''}`}
      data-test={`board-kit-${kit.kitId}`}
      data-online={String(online)}
      data-stuck={String(isStuck)}
    >
      <header class="row">
        <Dot on={online} label={online ? t('online') : t('offline')} />
        <strong>{kit.teamName ?? kit.students[0]?.displayName ?? kit.kitId}</strong>
        <code class="muted">{kit.kitId}</code>
        {grading ? (
          <span class={`score ${grading.passed ? 'ok' : ''}`} data-test="board-score">
            {formatNumber(grading.score, 0)}/{formatNumber(grading.maxScore, 0)}
          </span>
        ) : null}
      </header>
      <p class="muted small">{kit.students.map((s) => s.displayName).join('、')}</p>
      <Chart option={option} height={54} onReady={onReady} class="spark" label={t('sparkline')} />
      <dl class="readings small">
        {sensors.map((sensor, i) => (
          <div key={sensor}>
            <dt style={{ color: PALETTE[i % PALETTE.length] }}>{sensorLabel(sensor)}</dt>
            <dd data-test={`reading-${sensor}`}>
              {latest[sensor] ? readingText(sensor, latest[sensor].value, kit.units[sensor]) : '—'}
            </dd>
          </div>
        ))}
      </dl>
      {isStuck ? (
        <p class="bad small" data-test="stuck-reasons">
          {reasons.map((reason) => t(`stuck_${reason}`)).join(' · ')}
          {reasons.includes('errors') && lastError.current ? ` (${lastError.current.code})` : ''}
        </p>
      ) : (
        <p class="muted small">
          {t('lastReading')}: {ago(lastSeen.current || null)}
        </p>
      )}
      {kit.attempt ? (
        <p class="small">
          <a href={`#/review/${kit.attempt.id}`}>
            {kit.attempt.studentName} · {t('attempt')}
          </a>
        </p>
      ) : null}
    </article>
  );
}

export function ClassReview({ classId }: { classId: string }) {
  const assignments = useAsync(
    () => get<Page<Assignment>>(`/classes/${classId}/assignments?limit=100`),
    [classId],
  );
  const [selected, setSelected] = useState<string>('');
  const assignmentId = selected || assignments.data?.items[0]?.id || '';
  const grades = useAsync(
    async () =>
      assignmentId
        ? {
            grades: await get<AssignmentGrades>(`/assignments/${assignmentId}/grades`),
            stats: await get<AssignmentStatistics>(`/assignments/${assignmentId}/statistics`),
            attempts: (await get<Page<Attempt>>(`/assignments/${assignmentId}/attempts?limit=200`)).items,
          }
        : null,
    [assignmentId],
  );
  const [error, setError] = useState<unknown>(null);
  const exportAs = async (format: 'csv' | 'xlsx') => {
    setError(null);
    try {
      await download(`/assignments/${assignmentId}/grades.${format}?headers=zh`, `grades.${format}`);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div class="stack">
      <h1>{t('assessment')}</h1>
      <ClassTabs classId={classId} active="review" />
      <ErrorBox error={assignments.error ?? grades.error ?? error} />
      <div class="row">
        <label class="inline">
          {t('assignment')}
          <select
            value={assignmentId}
            onChange={(e) => setSelected(e.currentTarget.value)}
            data-test="assignment-select"
          >
            {assignments.data?.items.map((a) => (
              <option key={a.id} value={a.id}>
                {a.taskTitle} ({t(`status_${a.status}`)})
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          class="secondary"
          disabled={!assignmentId}
          onClick={() => exportAs('csv')}
          data-test="export-csv"
        >
          {t('exportCsv')}
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!assignmentId}
          onClick={() => exportAs('xlsx')}
          data-test="export-xlsx"
        >
          {t('exportXlsx')}
        </button>
      </div>
      {grades.data?.stats.mostFailed ? (
        <p class="note">
          {t('mostFailed', {
            criterion: pick(grades.data.stats.mostFailed.title),
            n: grades.data.stats.mostFailed.studentsFailed,
          })}
        </p>
      ) : null}
      {grades.loading && !grades.data ? <Loading /> : null}
      {grades.data ? (
        <div class="scroll">
          <table data-test="grades" class="cards">
            <thead>
              <tr>
                <th>{t('studentNumber')}</th>
                <th>{t('name')}</th>
                <th>{t('team')}</th>
                <th>{t('attempts')}</th>
                <th>{t('autoScore')}</th>
                <th>{t('adjustments')}</th>
                <th>{t('adjustedScore')}</th>
                <th>{t('mentorScore')}</th>
                <th>{t('finalScore')}</th>
                <th>{t('status')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {grades.data.grades.students.map((s) => (
                <tr key={s.studentId}>
                  <td class="nowrap">{s.studentNumber}</td>
                  <td class="nowrap">{s.displayName}</td>
                  <td class="nowrap" data-label={t('team')}>
                    {s.teamName}
                  </td>
                  <td data-label={t('attempts')}>{s.attempts}</td>
                  <td data-test="auto-score" data-label={t('autoScore')}>
                    {formatNumber(s.autoScore, 1)}
                  </td>
                  <td class="small" data-test="adjustments" data-label={t('adjustments')}>
                    {s.adjustments.map((a) => (
                      <div key={a.criterionId}>{adjustmentText(a)}</div>
                    ))}
                  </td>
                  <td data-test="adjusted-score" data-label={t('adjustedScore')}>
                    {s.adjustments.length > 0 ? formatNumber(s.adjustedScore, 1) : '—'}
                  </td>
                  <td data-label={t('mentorScore')}>{formatNumber(s.mentorScore, 1)}</td>
                  <td data-label={t('finalScore')}>
                    <strong>{formatNumber(s.score, 1)}</strong>
                  </td>
                  <td class="nowrap" data-label={t('status')}>
                    {t(`grade_${s.status}`)}
                  </td>
                  <td>
                    {(() => {
                      // The graded best attempt, else the newest (running ones too: review shows their data so far).
                      const attemptId =
                        s.attemptId ??
                        grades.data?.attempts.find((a) => a.studentId === s.studentId)?.id ??
                        null;
                      return attemptId ? (
                        <a href={`#/review/${attemptId}`} data-test={`review-${s.studentNumber}`}>
                          {t('review')}
                        </a>
                      ) : null;
                    })()}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <AssignToClass classId={classId} onDone={assignments.reload} />
    </div>
  );
}

/** Assign a published lab task to teams of the class. */
function AssignToClass({ classId, onDone }: { classId: string; onDone: () => void }) {
  const tasks = useAsync(() => get<Page<TaskSummary>>('/tasks?status=published&limit=200'), []);
  const teams = useAsync(() => get<Page<Team>>(`/classes/${classId}/teams?limit=200`), [classId]);
  return (
    <AssignTask tasks={tasks.data?.items} teams={teams.data?.items} hint={t('teamsHint')} onDone={onDone} />
  );
}
