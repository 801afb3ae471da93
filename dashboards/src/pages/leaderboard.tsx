/** The competition leaderboard (技能竞赛) for a big screen: live over MQTT, ranked by score then time to pass. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { Chart, type ChartOption } from '../chart.tsx';
import { formatNumber, pick, t } from '../i18n.ts';
import { follow, topics } from '../live.ts';
import type { Leaderboard as Board } from '../types.ts';
import { ErrorBox, Loading, useAsync, useNow } from '../ui.tsx';

function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function Leaderboard({ sessionId }: { sessionId: string }) {
  const initial = useAsync(() => get<Board>(`/sessions/${sessionId}/leaderboard`), [sessionId]);
  const [board, setBoard] = useState<Board | null>(null);
  const now = useNow(1000);
  useEffect(() => {
    const data = initial.data;
    if (data) setBoard((current) => (current && current.generatedAt > data.generatedAt ? current : data));
  }, [initial.data]);
  useEffect(
    () =>
      follow([topics.leaderboard(sessionId)], (payload) => {
        if (!payload || typeof payload !== 'object') return;
        const next = payload as Board;
        // A retained board older than the one read over HTTP (e.g. of the session still running) loses.
        setBoard((current) => (current && current.generatedAt > next.generatedAt ? current : next));
      }),
    [sessionId],
  );
  const option = useMemo<ChartOption | null>(() => {
    if (!board) return null;
    const teams = [...board.teams].reverse();
    return {
      animationDurationUpdate: 600,
      grid: { left: 110, right: 40, top: 10, bottom: 24 },
      xAxis: {
        type: 'value',
        max: board.maxScore || 100,
        axisLabel: { color: '#8fa1b5' },
        splitLine: { lineStyle: { color: '#26384f' } },
      },
      yAxis: {
        type: 'category',
        data: teams.map((team) => team.teamName),
        axisLabel: { fontSize: 16, color: '#eef3f8' },
      },
      series: [
        {
          type: 'bar',
          data: teams.map((team) => ({
            value: team.score,
            itemStyle: { color: team.passed ? '#17a673' : '#2f7ed8' },
          })),
          label: {
            show: true,
            position: 'right',
            formatter: (p: { value: unknown }) => formatNumber(Number(p.value), 1),
          },
        },
      ],
    };
  }, [board]);
  if (initial.loading && !board) return <Loading />;
  if (!board) return <ErrorBox error={initial.error} />;
  // The clock stops with the session: at its end, or at the last board seen of an ended one.
  const stoppedAt = board.endedAt ?? (board.running ? null : board.generatedAt);
  const elapsed = ((stoppedAt ?? now) - board.startedAt) / 1000;
  return (
    <div class="leaderboard" data-test="leaderboard">
      <header class="row">
        <h1>
          {t('competition')} · {board.taskTitle}
        </h1>
        <span class={board.running ? 'badge open' : 'badge closed'}>
          {board.running ? t('sessionRunning') : t('sessionEnded')}
        </span>
        <span class="clock" data-test="clock">
          {clock(elapsed)}
        </span>
      </header>
      <table class="ranks">
        <thead>
          <tr>
            <th>{t('rank')}</th>
            <th>{t('team')}</th>
            <th>{t('score')}</th>
            <th>{t('criteria')}</th>
            <th>{t('timeToPass')}</th>
          </tr>
        </thead>
        <tbody>
          {board.teams.map((team) => (
            <tr key={team.teamId} class={team.passed ? 'pass' : ''} data-test={`rank-${team.teamName}`}>
              <td class="rank">{team.rank}</td>
              <td>{team.teamName}</td>
              <td class="num">
                {formatNumber(team.score, 1)}
                <span class="muted">/{formatNumber(team.maxScore, 0)}</span>
              </td>
              <td>
                {board.criteria.map((criterion) => {
                  const state = team.criteria.find((c) => c.id === criterion.id);
                  return (
                    <span
                      key={criterion.id}
                      class={`pill ${state?.passed ? 'ok' : 'off'}`}
                      title={pick(criterion.title)}
                    >
                      {pick(criterion.title)}
                    </span>
                  );
                })}
              </td>
              <td class="num">{team.timeToPassSeconds === null ? '—' : clock(team.timeToPassSeconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {option ? (
        <Chart option={option} height={Math.max(200, board.teams.length * 34)} label={t('scores')} />
      ) : null}
    </div>
  );
}
