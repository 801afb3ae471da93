/**
 * Live states as they are published: the JSON of an attempt's live grading, built for 1,000
 * attempts a second. A state is the same document `JSON.stringify` would give for {@link LiveState},
 * but assembled from parts kept between evaluations: the attempt's fields and each criterion's
 * id, type, title and weight are serialized once; a criterion's score, sentence and numbers are
 * serialized (to UTF-8, once) when live grading re-renders that criterion; publishing joins the
 * bytes. One buffer serves the MQTT topic and every event stream.
 *
 * A criterion's score never changes without its sentence: when its score (as shown), pass or
 * pending state differs from what was rendered, it is rendered again — score, sentence and
 * numbers — from the same evaluation.
 */
import type { Criterion } from '../rubric.ts';
import type { CriterionResult, CriterionTypeName, Localized, TimeWindow } from '../types.ts';

/** One criterion as the student sees it live: no time spans, the key numbers measured. */
export interface LiveCriterionState {
  id: string;
  type: CriterionTypeName;
  title: Criterion['title'];
  weight: number;
  /** 0 while pending. */
  score: number;
  passed: boolean;
  /**
   * Not enough data to judge it yet: neither passed nor failed (a neutral "等待中" in the
   * checklist); `waitingFor` says what it waits for. Never true in an ended attempt's state.
   */
  pending: boolean;
  /** The sentence for the score and state above, from the same evaluation. */
  explanation: Localized;
  /** What a pending criterion waits for ("需要 30 分钟的数据，已有 2 分钟"), else null. */
  waitingFor: Localized | null;
  measured: Record<string, number>;
}

/** An attempt's live grading state: what the MQTT topic and the event stream carry. */
export interface LiveState {
  attemptId: string;
  assignmentId: string;
  sessionId: string | null;
  studentId: string;
  teamId: string | null;
  kitId: string;
  /** Counts the evaluations of this attempt (in this process): newer states have higher numbers. */
  seq: number;
  /** When this state was computed (platform clock, ms). */
  evaluatedAt: number;
  /** The data graded: [from, to) in ms. */
  window: TimeWindow;
  /** Time of the newest reading in the buffer, or null before the first. */
  lastReadingAt: number | null;
  score: number;
  maxScore: number;
  /** Every criterion passes now. */
  passed: boolean;
  /** The first moment every criterion passed (stays once reached), or null. */
  passedAt: number | null;
  timeToPassSeconds: number | null;
  ended: boolean;
  criteria: LiveCriterionState[];
}

/** The attempt fields live grading needs (the lab API's Attempt has them). */
export interface LiveAttempt {
  id: string;
  assignmentId: string;
  sessionId: string | null;
  studentId: string;
  teamId: string | null;
  kitId: string;
  startedAt: number;
  endedAt: number | null;
}

/** The fields of a state that change with each evaluation, apart from the criteria. */
export interface LiveStateHeader {
  seq: number;
  evaluatedAt: number;
  window: TimeWindow;
  lastReadingAt: number | null;
  passedAt: number | null;
  ended: boolean;
}

/**
 * A state as published: its JSON bytes, the numbers the leaderboard ranks by, and the whole
 * state object, parsed from the JSON on first use (only tests and rare paths need it).
 */
export class PublishedState {
  readonly attemptId: string;
  readonly json: Buffer;
  readonly seq: number;
  readonly score: number;
  readonly passed: boolean;
  readonly timeToPassSeconds: number | null;
  /** Ids of the criteria that pass. */
  readonly passedIds: readonly string[];
  readonly windowTo: number;
  readonly lastReadingAt: number | null;
  readonly ended: boolean;
  #state: LiveState | undefined;

  constructor(fields: Omit<PublishedState, 'state'>) {
    this.attemptId = fields.attemptId;
    this.json = fields.json;
    this.seq = fields.seq;
    this.score = fields.score;
    this.passed = fields.passed;
    this.timeToPassSeconds = fields.timeToPassSeconds;
    this.passedIds = fields.passedIds;
    this.windowTo = fields.windowTo;
    this.lastReadingAt = fields.lastReadingAt;
    this.ended = fields.ended;
  }

  get state(): LiveState {
    this.#state ??= JSON.parse(this.json.toString('utf8')) as LiveState;
    return this.#state;
  }

  /** A state from its JSON as published (by another instance of a cluster); throws on anything else. */
  static fromJson(json: Buffer): PublishedState {
    const state = JSON.parse(json.toString('utf8')) as LiveState;
    if (typeof state?.attemptId !== 'string' || !Array.isArray(state.criteria)) {
      throw new Error('not a live grading state');
    }
    const published = new PublishedState({
      attemptId: state.attemptId,
      json,
      seq: state.seq,
      score: state.score,
      passed: state.passed,
      timeToPassSeconds: state.timeToPassSeconds,
      passedIds: state.criteria.filter((c) => c.passed).map((c) => c.id),
      windowTo: state.window.to,
      lastReadingAt: state.lastReadingAt,
      ended: state.ended,
    });
    published.#state = state;
    return published;
  }
}

/** Scores as dashboards show them: to 0.1 point. */
export const SHOWN_STEP = 0.1;
const shown = (score: number) => Math.round(score / SHOWN_STEP);

const CLOSE = Buffer.from(']}');
const EMPTY = Buffer.alloc(0);
const json = (value: unknown) => JSON.stringify(value);

/**
 * What was last rendered of an attempt's live state. Each criterion is three pieces of JSON: its
 * id, type, title and weight (once), its score and pass (kept as numbers, written at each
 * publish), its sentence and numbers (when its pass flips, and at each refresh of the details);
 * `publish` joins them.
 */
export class LiveStateView {
  readonly #attempt: LiveAttempt;
  readonly #head: string;
  readonly #ids: string[];
  readonly #prefixes: Buffer[];
  readonly #maxScore: number;
  readonly #scores: number[];
  readonly #passed: boolean[];
  readonly #pending: boolean[];
  /** `update`'s scratch: which criteria are rendered again (1). */
  readonly #due: Uint8Array;
  /** Each criterion's score and pass as JSON (ASCII), kept until they change. */
  readonly #verdicts: string[];
  readonly #details: Buffer[];
  #published = false;
  /** Ids of the passing criteria, made again only when a pass flips (states share it meanwhile). */
  #passedIds: readonly string[] = [];
  #passesChanged = true;
  #lastHeader: LiveStateHeader | undefined;

  constructor(attempt: LiveAttempt, criteria: readonly Criterion[]) {
    this.#attempt = attempt;
    this.#head =
      `{"attemptId":${json(attempt.id)},"assignmentId":${json(attempt.assignmentId)},` +
      `"sessionId":${json(attempt.sessionId)},"studentId":${json(attempt.studentId)},` +
      `"teamId":${json(attempt.teamId)},"kitId":${json(attempt.kitId)},"seq":`;
    this.#ids = criteria.map((c) => c.id);
    this.#prefixes = criteria.map((c) =>
      Buffer.from(
        `{"id":${json(c.id)},"type":${json(c.type)},"title":${json(c.title ?? c.id)},"weight":${json(c.weight)},`,
      ),
    );
    this.#maxScore = Math.round(criteria.reduce((sum, c) => sum + c.weight, 0) * 100) / 100;
    this.#scores = criteria.map(() => Number.NaN);
    this.#passed = criteria.map(() => false);
    this.#pending = criteria.map(() => false);
    this.#due = new Uint8Array(criteria.length);
    this.#verdicts = criteria.map(() => '');
    this.#details = criteria.map(() => EMPTY);
  }

  /**
   * Whether a student would see the verdicts differ from the last state published (always before
   * the first): a pass or a pending state that flipped, or a score — of a criterion or in all —
   * that moved as shown (to {@link SHOWN_STEP}). Smaller moves wait for the next refresh of the
   * details.
   */
  differs(verdicts: readonly CriterionResult[]): boolean {
    if (!this.#published) return true;
    let total = 0;
    let before = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const verdict = verdicts[i] as CriterionResult;
      const score = this.#scores[i] as number;
      if (
        verdict.passed !== this.#passed[i] ||
        (verdict.pending === true) !== this.#pending[i] ||
        shown(verdict.score) !== shown(score)
      )
        return true;
      total += verdict.score;
      before += score;
    }
    return shown(total) !== shown(before);
  }

  /**
   * Brings the criteria to the verdicts: each whose pass or pending state flipped, or whose score
   * moved as shown (or, with `everything`, each) is rendered again — score, sentence and numbers —
   * from `explain(index)`, so a score never moves without the sentence of the same evaluation. A
   * score that moved by less than shown keeps its last rendering (score and sentence, the same
   * to a reader) until the next refresh — unless those small moves add up to a shown move of the
   * total: then every criterion whose score moved is rendered again. Returns how many were
   * explained.
   */
  update(
    verdicts: readonly CriterionResult[],
    explain: (index: number) => CriterionResult,
    everything: boolean,
  ): number {
    const due = this.#due;
    let actual = 0;
    let kept = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const verdict = verdicts[i] as CriterionResult;
      const score = this.#scores[i] as number;
      const now =
        everything ||
        this.#details[i] === EMPTY ||
        verdict.passed !== this.#passed[i] ||
        (verdict.pending === true) !== this.#pending[i] ||
        shown(verdict.score) !== shown(score);
      due[i] = now ? 1 : 0;
      actual += verdict.score;
      kept += now ? verdict.score : score;
    }
    const rest = shown(kept) !== shown(actual);
    let explained = 0;
    for (let i = 0; i < verdicts.length; i++) {
      if (due[i] === 1 || (rest && (verdicts[i] as CriterionResult).score !== this.#scores[i])) {
        this.render(i, explain(i));
        explained++;
      }
    }
    return explained;
  }

  /** Renders criterion `index` whole from a result with its sentence and numbers (`explained` or `full`). */
  render(index: number, result: CriterionResult): void {
    this.#setVerdict(index, result);
    this.#details[index] = Buffer.from(
      `"explanation":${json(result.explanation)},"waitingFor":${json(result.waitingFor ?? null)},` +
        `"measured":${json(result.evidence.measured)}}`,
    );
  }

  #setVerdict(index: number, result: CriterionResult): void {
    const pending = result.pending === true;
    if (
      this.#scores[index] === result.score &&
      this.#passed[index] === result.passed &&
      this.#pending[index] === pending
    )
      return;
    if (this.#passed[index] !== result.passed) this.#passesChanged = true;
    this.#scores[index] = result.score;
    this.#passed[index] = result.passed;
    this.#pending[index] = pending;
    this.#verdicts[index] = `"score":${json(result.score)},"passed":${result.passed},"pending":${pending},`;
  }

  /** The state with every criterion as last rendered (each must have been rendered once). */
  publish(header: LiveStateHeader): PublishedState {
    this.#published = true;
    this.#lastHeader = header;
    const attempt = this.#attempt;
    let total = 0;
    for (let i = 0; i < this.#scores.length; i++) total += this.#scores[i] as number;
    if (this.#passesChanged) {
      this.#passedIds = this.#ids.filter((_, i) => this.#passed[i]);
      this.#passesChanged = false;
    }
    const passedIds = this.#passedIds;
    const score = Math.round(total * 100) / 100;
    const passed = this.#scores.length > 0 && passedIds.length === this.#scores.length;
    const timeToPassSeconds = header.passedAt === null ? null : (header.passedAt - attempt.startedAt) / 1000;
    const head =
      `${this.#head}${header.seq},"evaluatedAt":${header.evaluatedAt},` +
      `"window":{"from":${header.window.from},"to":${header.window.to}},` +
      `"lastReadingAt":${json(header.lastReadingAt)},"score":${score},"maxScore":${this.#maxScore},` +
      `"passed":${passed},"passedAt":${json(header.passedAt)},"timeToPassSeconds":${json(timeToPassSeconds)},` +
      `"ended":${header.ended},"criteria":[`;
    // One buffer, filled in place: the head, then each criterion's pieces (score and pass are
    // written here: they change most often, and numbers cost nothing to keep).
    const verdicts = this.#verdicts;
    let length = Buffer.byteLength(head) + CLOSE.length + Math.max(0, this.#prefixes.length - 1);
    for (let i = 0; i < this.#prefixes.length; i++) {
      length += (this.#prefixes[i] as Buffer).length + (verdicts[i] as string).length;
      length += (this.#details[i] as Buffer).length;
    }
    const bytes = Buffer.allocUnsafe(length);
    let at = bytes.write(head, 0);
    for (let i = 0; i < this.#prefixes.length; i++) {
      if (i > 0) bytes[at++] = 0x2c; // ,
      // TypedArray#set: a plain copy (Buffer#copy costs a call into C++ each).
      const prefix = this.#prefixes[i] as Buffer;
      bytes.set(prefix, at);
      at += prefix.length;
      at += bytes.write(verdicts[i] as string, at, 'latin1');
      const details = this.#details[i] as Buffer;
      bytes.set(details, at);
      at += details.length;
    }
    bytes.set(CLOSE, at);
    return new PublishedState({
      attemptId: attempt.id,
      json: bytes,
      seq: header.seq,
      score,
      passed,
      timeToPassSeconds,
      passedIds,
      windowTo: header.window.to,
      lastReadingAt: header.lastReadingAt,
      ended: header.ended,
    });
  }

  /** The last state published again, marked ended (when evaluating at the end failed); undefined before the first. */
  republishEnded(): PublishedState | undefined {
    return this.#lastHeader && this.publish({ ...this.#lastHeader, ended: true });
  }
}
