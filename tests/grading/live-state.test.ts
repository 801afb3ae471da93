/**
 * Live states are assembled from parts serialized once (the attempt, each criterion's title)
 * and parts re-rendered when a criterion changes. Whatever was re-rendered when, a published
 * state must be the JSON of the state object, byte for byte.
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
      explanation: c.explanation,
      measured: c.evidence.measured,
    })),
  };
}

describe('live states', () => {
  it('are the JSON of the state, with sentences renewed when a pass flips and scores whenever they move', () => {
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
    let scoresMovedAlone = 0;
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

      // What the state must be: explained criteria as graded now; the others keep their sentence
      // and numbers, with the score and pass graded now.
      const now = expected(full, window, seconds, passedAt);
      now.criteria = now.criteria.map((c, i) => {
        if (explained.has(i)) return c;
        const before = previous?.criteria[i] as LiveState['criteria'][number];
        if (before.score !== c.score) scoresMovedAlone++;
        return { ...before, score: c.score, passed: c.passed };
      });
      if (previous) explainedLater += explained.size;
      expect(published.json.toString('utf8')).toBe(JSON.stringify(now));
      expect(published).toMatchObject({ seq: seconds, score: now.score, passed: now.passed });
      expect(published.passedIds).toEqual(now.criteria.filter((c) => c.passed).map((c) => c.id));
      previous = published.state;
    }
    // The data made both happen: a pass flipped (explained again), and a score moved on its own.
    expect(explainedLater).toBeGreaterThan(0);
    expect(scoresMovedAlone).toBeGreaterThan(0);
  });

  it('marks the last state ended when the end cannot be evaluated', () => {
    const view = new LiveStateView(ATTEMPT, RUBRIC.criteria);
    expect(view.republishEnded()).toBeUndefined();
    const window = { from: ATTEMPT.startedAt, to: ATTEMPT.startedAt + 5_000 };
    const grade = gradeLive(RUBRIC, window, { series: {}, events: [], commands: [] }, {}, 'explained');
    grade.criteria.forEach((c, i) => view.render(i, c));
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
