/**
 * One attempt reviewed: its telemetry with the selected criterion's passed (green) and failed (red)
 * spans marked, the evidence of every criterion, the final grade; staff override a criterion with
 * a reason, the enterprise mentor gives their score. Students see their own, read-only.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, get, post, session } from '../api.ts';
import { Chart, type ChartOption } from '../chart.tsx';
import { adjustmentText, formatDateTime, formatNumber, pick, sensorLabel, t, tOr } from '../i18n.ts';
import type { AttemptGrade, GradeCriterion, LiveReview, Task, Telemetry } from '../types.ts';
import { Card, ErrorBox, Loading, useAsync } from '../ui.tsx';

function sensorsOf(task: Task | null, criterionId: string): string[] {
  const criterion = task?.rubric.criteria.find((c) => c.id === criterionId);
  const params = criterion?.params ?? {};
  const sensor = params.sensor;
  if (typeof sensor === 'string') return [sensor];
  return task?.requiredSensors ?? [];
}

export function AttemptReview({ attemptId }: { attemptId: string }) {
  const role = session()?.user.role;
  const staff = role === 'admin' || role === 'instructor';
  const grade = useAsync(() => get<AttemptGrade>(`/attempts/${attemptId}/grade`), [attemptId]);
  const task = useAsync(
    async () => (grade.data ? await get<Task>(`/tasks/${grade.data.task.id}`).catch(() => null) : null),
    [grade.data?.task.id],
  );
  const [selected, setSelected] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  const data = grade.data;
  const criterion =
    data?.criteria.find((c) => c.id === selected) ??
    data?.criteria.find((c) => !c.passed) ??
    data?.criteria[0];
  const window = data
    ? (data.run?.window ?? { from: data.attempt.startedAt, to: data.attempt.endedAt ?? Date.now() })
    : null;
  const sensors = useMemo(() => {
    const all = new Set<string>();
    // A running attempt has no graded criteria yet: the task's sensors, then.
    const ids = data?.criteria.length
      ? data.criteria.map((c) => c.id)
      : (data?.live?.criteria ?? []).map((c) => c.id);
    for (const id of ids) for (const s of sensorsOf(task.data ?? null, id)) all.add(s);
    if (all.size === 0) for (const s of task.data?.requiredSensors ?? []) all.add(s);
    return [...all];
  }, [data, task.data]);
  const telemetry = useAsync(async () => {
    if (!data || !window || sensors.length === 0) return [];
    const long = window.to - window.from > 2 * 3_600_000;
    return Promise.all(
      sensors.map((sensor) =>
        // The attempt's own data: whoever may read its grade (its enterprise's mentor too) reads it.
        get<Telemetry>(
          `/attempts/${data.attempt.id}/telemetry?sensor=${sensor}&from=${Math.floor(window.from)}&to=${Math.ceil(window.to)}${long ? '&every=10000' : '&limit=20000'}`,
        ),
      ),
    );
  }, [data?.attempt.id, data?.run?.id, data?.live?.evaluatedAt, sensors.join(',')]);
  // A running attempt's review follows it: its live grading and data so far, renewed every 15 s.
  const running = data?.attempt.endedAt === null;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(grade.reload, 15_000);
    return () => clearInterval(timer);
  }, [running, grade.reload]);

  const gradeNow = async () => {
    setError(null);
    try {
      await post(`/attempts/${attemptId}/grade`);
      grade.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  if (grade.loading && !data) return <Loading />;
  if (!data) return <ErrorBox error={grade.error} />;
  const criterionSensors = criterion ? sensorsOf(task.data ?? null, criterion.id) : [];
  return (
    <div class="stack">
      <h1>
        {t('reviewTitle')} · {data.task.title}
      </h1>
      <p class="muted">
        {t('kit')} <code>{data.attempt.kitId}</code> · {formatDateTime(data.attempt.startedAt)} –{' '}
        {data.attempt.endedAt ? formatDateTime(data.attempt.endedAt) : t('running')}
      </p>
      <ErrorBox error={grade.error ?? error} />
      <Card title={t('finalGrade')} test="final">
        <p class="row">
          <strong class="big-number" data-test="final-score">
            {formatNumber(data.final.score, 1)}
          </strong>
          <span class={`badge ${data.final.status}`}>{t(`grade_${data.final.status}`)}</span>
          {data.outdated ? <span class="badge warn">{t('outdated')}</span> : null}
          {staff && data.attempt.endedAt !== null ? (
            <button type="button" class="secondary" onClick={gradeNow}>
              {data.run ? t('regrade') : t('gradeNow')}
            </button>
          ) : null}
        </p>
        <dl class="score-parts" data-test="score-parts">
          <dt>{t('autoScore')}</dt>
          <dd data-test="auto-score">{formatNumber(data.final.autoScore, 2)}</dd>
          {data.final.adjustments.length > 0 ? (
            <>
              <dt>{t('adjustments')}</dt>
              <dd data-test="adjustments">
                {data.final.adjustments.map((a) => (
                  <div key={a.criterionId}>{adjustmentText(a)}</div>
                ))}
              </dd>
              <dt>{t('adjustedScore')}</dt>
              <dd data-test="adjusted-score">{formatNumber(data.final.adjustedScore, 2)}</dd>
            </>
          ) : null}
        </dl>
        <p>{pick(data.final.explanation)}</p>
        {data.mentorScore ? (
          <p class="muted">
            {t('mentorScore')}: {formatNumber(data.mentorScore.score, 1)} · {data.mentorScore.mentorName}
            {data.mentorScore.comment ? ` — ${data.mentorScore.comment}` : ''}
          </p>
        ) : null}
      </Card>
      {data.attempt.endedAt === null ? <LiveSoFar live={data.live ?? null} /> : null}
      <Card title={t('telemetry')} test="telemetry">
        {criterion ? (
          <p class="muted">
            {t('spansOf', { criterion: pick(criterion.title) })}{' '}
            <span class="legend ok">■ {t('passedSpan')}</span>{' '}
            <span class="legend bad">■ {t('failedSpan')}</span>
          </p>
        ) : null}
        {telemetry.loading && !telemetry.data ? <Loading /> : null}
        <ErrorBox error={telemetry.error} />
        <div class="charts wide">
          {sensors.map((sensor, i) => {
            const series = telemetry.data?.[i];
            return (
              <SpanChart
                key={sensor}
                sensor={sensor}
                telemetry={series ?? null}
                window={window ?? { from: 0, to: 0 }}
                criterion={criterion && criterionSensors.includes(sensor) ? criterion : null}
              />
            );
          })}
        </div>
      </Card>
      {data.criteria.length > 0 ? (
        <Card title={t('criteria')} test="criteria">
          <div class="scroll">
            <table class="cards">
              <thead>
                <tr>
                  <th>{t('criterion')}</th>
                  <th>{t('weight')}</th>
                  <th>{t('autoScore')}</th>
                  <th>{t('score')}</th>
                  <th>{t('evidence')}</th>
                </tr>
              </thead>
              <tbody>
                {data.criteria.map((c) => (
                  <tr
                    key={c.id}
                    class={`${c.passed ? 'pass' : 'fail'} ${criterion?.id === c.id ? 'selected' : ''}`}
                    data-test={`grade-criterion-${c.id}`}
                    onClick={() => setSelected(c.id)}
                  >
                    <td>
                      <span class="mark">{c.passed ? '✔' : '✘'}</span> <strong>{pick(c.title)}</strong>
                      <div class="muted small">{tOr(`ctype_${c.type}`, c.type)}</div>
                    </td>
                    <td data-label={t('weight')}>{c.weight}</td>
                    <td data-label={t('autoScore')}>{formatNumber(c.autoScore, 1)}</td>
                    <td data-test="criterion-score" data-label={t('score')}>
                      <strong>{formatNumber(c.score, 1)}</strong>
                      {c.override ? (
                        <div class="small note" data-test="override-note">
                          {t('overriddenBy', { who: c.override.createdByName ?? '' })}: {c.override.reason}
                        </div>
                      ) : null}
                    </td>
                    <td data-label={t('evidence')}>
                      <div>{pick(c.explanation)}</div>
                      <div class="muted small" data-test="evidence-summary">
                        {c.evidence.summary
                          ? pick(c.evidence.summary)
                          : // Grades made before summaries existed: the numbers as they are.
                            Object.entries(c.evidence.measured)
                              .map(([k, v]) => `${k} = ${formatNumber(v, 2)}`)
                              .join(' · ')}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data.flags.length > 0 ? (
            <div class="note">
              <strong>{t('flags')}</strong>
              <ul>
                {data.flags.map((flag, i) => (
                  <li key={`${flag.kind}-${i}`}>
                    {flag.kind} ({sensorLabel(flag.sensor)}): {pick(flag.explanation)}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </Card>
      ) : null}
      {staff && data.run ? (
        <OverrideForm grade={data} initial={criterion?.id ?? ''} onDone={grade.reload} />
      ) : null}
      {role === 'mentor' ? (
        <MentorScoreForm attemptId={attemptId} grade={data} onDone={grade.reload} />
      ) : null}
    </div>
  );
}

function SpanChart(props: {
  sensor: string;
  telemetry: Telemetry | null;
  window: { from: number; to: number };
  criterion: GradeCriterion | null;
}) {
  const option = useMemo<ChartOption>(() => {
    const points: [number, number][] = props.telemetry?.points
      ? props.telemetry.points.map((p) => [p.ts, p.value])
      : (props.telemetry?.windows ?? []).map((w) => [w.ts, w.mean]);
    const spans = props.criterion?.evidence.spans ?? [];
    return {
      animation: false,
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
      tooltip: { trigger: 'axis' },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
      xAxis: {
        type: 'time',
        min: props.window.from,
        max: props.window.to,
        splitNumber: 5,
        axisLabel: { hideOverlap: true },
      },
      yAxis: { type: 'value', scale: true, name: props.telemetry?.unit ?? '' },
      series: [
        {
          type: 'line',
          name: sensorLabel(props.sensor),
          showSymbol: false,
          data: points,
          lineStyle: { width: 1.2 },
          markArea: {
            silent: true,
            data: spans.map((span) => [
              {
                xAxis: span.from,
                itemStyle: { color: span.ok ? 'rgba(23,166,115,0.18)' : 'rgba(228,87,46,0.25)' },
                // Span notes are English only (kept for the API): the legend and the criteria say it in words.
                label: { show: false },
              },
              { xAxis: span.to },
            ]),
          },
        },
      ],
    };
  }, [props.telemetry, props.criterion, props.window.from, props.window.to, props.sensor]);
  return (
    <figure class="sensor" data-test={`span-chart-${props.sensor}`}>
      <figcaption>
        {sensorLabel(props.sensor)}
        {props.criterion ? ` · ${pick(props.criterion.title)}` : ''}
      </figcaption>
      <Chart option={option} height={260} label={props.sensor} />
    </figure>
  );
}

function OverrideForm(props: { grade: AttemptGrade; initial: string; onDone: () => void }) {
  const [criterionId, setCriterionId] = useState(props.initial || props.grade.criteria[0]?.id || '');
  const criterion = props.grade.criteria.find((c) => c.id === criterionId);
  const [score, setScore] = useState<string>('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await call('POST', `/attempts/${props.grade.attempt.id}/overrides`, {
        body: { criterionId, score: Number(score), reason },
      });
      setSaved(true);
      setReason('');
      props.onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Card title={t('override')} test="override">
      <form class="stack" onSubmit={submit}>
        <label>
          {t('criterion')}
          <select
            name="criterion"
            value={criterionId}
            onChange={(e) => setCriterionId(e.currentTarget.value)}
          >
            {props.grade.criteria.map((c) => (
              <option key={c.id} value={c.id}>
                {pick(c.title)} ({formatNumber(c.score, 1)}/{c.weight})
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('newScore', { max: criterion?.weight ?? 0 })}
          <input
            name="score"
            type="number"
            step="0.5"
            min={0}
            max={criterion?.weight ?? 100}
            value={score}
            onInput={(e) => setScore(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          {t('reason')}
          <textarea
            name="reason"
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            required
            rows={2}
          />
        </label>
        <ErrorBox error={error} />
        {saved ? <p class="ok">{t('overrideSaved')}</p> : null}
        <button type="submit">{t('saveOverride')}</button>
      </form>
    </Card>
  );
}

function MentorScoreForm(props: { attemptId: string; grade: AttemptGrade; onDone: () => void }) {
  const [score, setScore] = useState(String(props.grade.mentorScore?.score ?? ''));
  const [comment, setComment] = useState(props.grade.mentorScore?.comment ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (props.grade.task.mentorWeight === 0) return <p class="muted">{t('noMentorComponent')}</p>;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const version = props.grade.mentorScore ? `"${props.grade.mentorScore.version}"` : null;
      await call('PUT', `/attempts/${props.attemptId}/mentor-score`, {
        body: { score: Number(score), comment },
        ifMatch: version,
      });
      setSaved(true);
      props.onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Card title={t('enterpriseScore', { w: props.grade.task.mentorWeight })} test="mentor-score">
      <form class="stack" onSubmit={submit}>
        <label>
          {t('score0to100')}
          <input
            name="mentor-score"
            type="number"
            min={0}
            max={100}
            step="1"
            value={score}
            onInput={(e) => setScore(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          {t('comment')}
          <textarea
            name="comment"
            value={comment}
            onInput={(e) => setComment(e.currentTarget.value)}
            rows={2}
          />
        </label>
        <ErrorBox error={error} />
        {saved ? <p class="ok">{t('saved')}</p> : null}
        <button type="submit">{t('saveScore')}</button>
      </form>
    </Card>
  );
}

/** A running attempt: its criteria as live grading sees them now (waiting, met or not yet). */
function LiveSoFar({ live }: { live: LiveReview | null }) {
  if (!live) {
    return (
      <Card title={t('running')} test="live-so-far">
        <p class="muted">{t('liveNone')}</p>
      </Card>
    );
  }
  return (
    <Card title={t('running')} test="live-so-far">
      <p>
        {t('liveSoFar')}{' '}
        <strong data-test="live-score">
          {t('scoreSoFar', { score: formatNumber(live.score, 1), max: formatNumber(live.maxScore, 0) })}
        </strong>
      </p>
      <ul class="checklist">
        {live.criteria.map((c) => {
          const state = c.pending ? 'pending' : c.passed ? 'pass' : 'fail';
          const title = pick(c.title);
          return (
            <li key={c.id} class={state} data-state={state} data-test={`live-criterion-${c.id}`}>
              <span class="mark">{c.pending ? '…' : c.passed ? '✔' : '✘'}</span> <strong>{title}</strong>{' '}
              {c.pending ? <span class="badge">{t('criterionPending')}</span> : null}
              <div class="small">{pick(c.pending && c.waitingFor ? c.waitingFor : c.explanation)}</div>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}
