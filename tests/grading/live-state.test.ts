/**
 * Live states are assembled from parts serialized once (the attempt, each criterion's title)
 * and parts re-rendered when a criterion changes. Whatever was re-rendered when, a published
 * state must be the JSON of the state object, byte for byte; and a criterion's score never moves
 * without the sentence of the same evaluation.
 */
import { describe, expect, it } from 'vitest';
import {
  gradeLive,
  type LiveAttempt,
  type LiveGrade,
  type LiveState,
  LiveStateView,
  type Rubric,
  type TimeWindow,
} from '../../grading/index.ts';

const RUBRIC: Rubric = {
  criteria: [
    {
      id: 'warm',
      title: { 'zh-CN': '温度达标', en: 'Warm "enough"' },
      weight: 60,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 25, max: 40, minPercent: 60 },
    },
    {
      id: 'stable',
      title: 'Humidity steady',
      weight: 40,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'humidity', maxStdDev: 2 },
    },
  ],
};

const ATTEMPT: LiveAttempt = {
  id: '5a3c4f57-6c64-4d6e-9a51-0f4b1c2d3e4f',
  assignmentId: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
  sessionId: null,
  studentId: '0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e',
  teamId: null,
  kitId: 'kit-7',
  startedAt: 1_790_000_000_000,
  endedAt: null,
};

/** The state object as the LiveState type documents it. */
function expected(grade: LiveGrade, window: TimeWindow, seq: number, passedAt: number | null): LiveState {
  return {
    attemptId: ATTEMPT.id,
    assignmentId: ATTEMPT.assignmentId,
    sessionId: ATTEMPT.sessionId,
    studentId: ATTEMPT.studentId,
    teamId: ATTEMPT.teamId,
    kitId: ATTEMPT.kitId,
    seq,
    evaluatedAt: window.to,
    window,
    lastReadingAt: window.to - 1,
    score: grade.total,
    maxScore: grade.maxTotal,
    passed: grade.criteria.every((c) => c.passed),
    passedAt,
    timeToPassSeconds: passedAt === null ? null : (passedAt - ATTEMPT.startedAt) / 1000,
    ended: false,
    criteria: grade.criteria.map((c, i) => ({
      id: c.id,
      type: c.type,
      title: RUBRIC.criteria[i]?.title ?? c.id,
      weight: c.weight,
      score: c.score,
      passed: c.passed,
      pending: c.pending === true,
      explanation: c.explanation,
      waitingFor: c.waitingFor ?? null,
      measured: c.evidence.measured,
    })),
  };
}

describe('live states', () => {
  it('are the JSON of the state; a score that moves comes with the sentence of the same evaluation', () => {
    const t0 = ATTEMPT.startedAt;
    // Cold for a minute, then warm: "warm" flips to passing; humidity's spread changes its score.
    const temperature = Array.from({ length: 120 }, (_, i) => ({
      ts: t0 + i * 1000,
      value: i < 60 ? 20 : 30,
    }));
    const humidity = Array.from({ length: 120 }, (_, i) => ({
      ts: t0 + i * 1000,
      value: 50 + (i % 9) * (i / 20),
    }));
    const data = { series: { temperature, humidity }, events: [], commands: [] };
    const view = new LiveStateView(ATTEMPT, RUBRIC.criteria);
    let previous: LiveState | undefined;
    let explainedLater = 0;
    let scoresMoved = 0;
    for (const seconds of [10, 70, 75, 100, 101, 120]) {
      const window = { from: t0, to: t0 + seconds * 1000 };
      const full = gradeLive(RUBRIC, window, data, {}, 'explained');
      const verdicts = gradeLive(RUBRIC, window, data, {}, 'verdict').criteria;
      if (previous && !view.differs(verdicts)) continue;
      const explained = new Set<number>();
      view.update(
        verdicts,
        (index) => {
          explained.add(index);
          return full.criteria[index] as LiveGrade['criteria'][number];
        },
        false,
      );
      const passedAt = seconds >= 100 ? t0 + 100_000 : null;
      const header = {
        seq: seconds,
        evaluatedAt: window.to,
        window,
        lastReadingAt: window.to - 1,
        passedAt,
        ended: false,
      };
      const published = view.publish(header);

      // Every criterion has the score and pass graded now; one not explained again keeps its
      // sentence and numbers — and then its score has not moved.
      const now = expected(full, window, seconds, passedAt);
      now.criteria = now.criteria.map((c, i) => {
        const before = previous?.criteria[i] as LiveState['criteria'][number];
        if (before && before.score !== c.score) scoresMoved++;
        if (explained.has(i)) return c;
        expect(c.score, `${c.id} moved without its sentence`).toBe(before.score);
        return { ...before, score: c.score, passed: c.passed };
      });
      if (previous) explainedLater += explained.size;
      expect(published.json.toString('utf8')).toBe(JSON.stringify(now));
      expect(published).toMatchObject({ seq: seconds, score: now.score, passed: now.passed });
      expect(published.passedIds).toEqual(now.criteria.filter((c) => c.passed).map((c) => c.id));
      previous = published.state;
    }
    // The data made both happen: a pass flipped, and scores moved — each with its sentence.
    expect(explainedLater).toBeGreaterThan(0);
    expect(scoresMoved).toBeGreaterThan(0);
  });

  it('carry pending criteria with what they wait for; a pending state flipping is a change', () => {
    const t0 = ATTEMPT.startedAt;
    const temperature = Array.from({ length: 90 }, (_, i) => ({ ts: t0 + i * 1000, value: 30 }));
    const humidity = Array.from({ length: 90 }, (_, i) => ({ ts: t0 + i * 1000, value: 50 + (i % 3) }));
    const data = { series: { temperature, humidity }, events: [], commands: [] };
    const view = new LiveStateView(ATTEMPT, RUBRIC.criteria);
    const states: LiveState[] = [];
    for (const seconds of [5, 30, 90]) {
      const window = { from: t0, to: t0 + seconds * 1000 };
      const full = gradeLive(RUBRIC, window, data, {}, 'explained', { running: true });
      const verdicts = gradeLive(RUBRIC, window, data, {}, 'verdict', { running: true }).criteria;
      if (states.length > 0 && !view.differs(verdicts)) continue;
      view.update(verdicts, (index) => full.criteria[index] as LiveGrade['criteria'][number], false);
      const published = view.publish({
        seq: seconds,
        evaluatedAt: window.to,
        window,
        lastReadingAt: window.to - 1,
        passedAt: null,
        ended: false,
      });
      expect(published.json.toString('utf8')).toBe(JSON.stringify(expected(full, window, seconds, null)));
      states.push(published.state);
    }
    // 5 s of data: both wait (neither passed nor failed, 0 points), saying for what.
    const [first, last] = [states[0], states.at(-1)];
    expect(first?.criteria.map((c) => [c.id, c.pending, c.passed, c.score])).toEqual([
      ['warm', true, false, 0],
      ['stable', true, false, 0],
    ]);
    expect(first?.score).toBe(0);
    expect(first?.criteria[0]?.waitingFor?.['zh-CN']).toBe(
      '需要至少 10 个温度读数、60 秒的数据，已有 5 个读数、4 秒',
    );
    expect(first?.criteria[0]?.explanation.en).toBe(
      'Waiting for data: needs at least 10 temperature readings over 60 s, has 5 readings over 4 s.',
    );
    // 90 s: judged, with their own sentences.
    expect(last?.criteria.map((c) => [c.id, c.pending, c.passed, c.waitingFor])).toEqual([
      ['warm', false, true, null],
      ['stable', false, true, null],
    ]);
    expect(last?.criteria[0]?.explanation.en).toMatch(
      /^100 % of the 90 temperature readings were between 25 and 40 °C/,
    );
  });

  it('marks the last state ended when the end cannot be evaluated', () => {
    const view = new LiveStateView(ATTEMPT, RUBRIC.criteria);
    expect(view.republishEnded()).toBeUndefined();
    const window = { from: ATTEMPT.startedAt, to: ATTEMPT.startedAt + 5_000 };
    const grade = gradeLive(RUBRIC, window, { series: {}, events: [], commands: [] }, {}, 'explained');
    for (const [i, c] of grade.criteria.entries()) view.render(i, c);
    const header = {
      seq: 3,
      evaluatedAt: window.to,
      window,
      lastReadingAt: null,
      passedAt: null,
      ended: false,
    };
    const first = view.publish(header);
    const ended = view.republishEnded();
    expect(ended?.state).toEqual({ ...first.state, ended: true });
  });

  it('count as changed what a student would see: a pass flipping, a score moving by a shown 0.1', () => {
    const view = new LiveStateView(ATTEMPT, RUBRIC.criteria);
    const verdict = (id: string, score: number, passed: boolean) =>
      ({
        id,
        type: 'range',
        weight: 50,
        score,
        passed,
        evidence: { measured: {}, spans: [] },
        explanation: { 'zh-CN': '', en: '' },
      }) as LiveGrade['criteria'][number];
    const now = [verdict('warm', 10, false), verdict('stable', 20, false)];
    expect(view.differs(now)).toBe(true); // nothing published yet
    view.update(now, (index) => now[index] as LiveGrade['criteria'][number], true);
    const window = { from: ATTEMPT.startedAt, to: ATTEMPT.startedAt + 1_000 };
    view.publish({
      seq: 1,
      evaluatedAt: window.to,
      window,
      lastReadingAt: null,
      passedAt: null,
      ended: false,
    });

    expect(view.differs([verdict('warm', 10.04, false), verdict('stable', 20, false)])).toBe(false);
    expect(view.differs([verdict('warm', 10.06, false), verdict('stable', 20, false)])).toBe(true);
    expect(view.differs([verdict('warm', 10, true), verdict('stable', 20, false)])).toBe(true);
    // Two moves too small to show each, that together move the total as shown.
    expect(view.differs([verdict('warm', 10.04, false), verdict('stable', 20.04, false)])).toBe(true);
  });
});
