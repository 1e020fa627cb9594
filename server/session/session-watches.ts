/**
 * One session's side of the watches: it checks the user's watches (in the shared WatchBook) on
 * everything new the session sees and hears, reports firings, and speaks up unasked — only
 * in a gap of the person's speech, as a normal response a barge-in cancels. It also turns
 * "tell me when …" into a watch and answers the `omnilive.watch.*` client events.
 */
import { ClientError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ServerEventBody, WireWatch } from '../protocol/server-events.ts';
import type { Observation, Watch, WatchEvidence, WatchJudge, WatchMode, WatchSpec } from '../reasoning/watch/types.ts';
import type { WatchBook } from '../reasoning/watch/watch-book.ts';
import { WatchChecker } from '../reasoning/watch/watch-checker.ts';
import { announceWatch, describeWatch, parseCondition, parseWatchRequest } from '../reasoning/watch/watch-request.ts';

export type ClipObservation = Extract<Observation, { kind: 'clip' }>;

/** A firing waits this long at most for a gap in the person's speech before it is dropped unsaid. */
const MAX_ANNOUNCE_WAIT_MS = 120_000;
/** How often a waiting announcement looks for a gap. */
const GAP_POLL_MS = 100;
/** Quiet this long after the person's last speech counts as a gap. */
const GAP_MS = 400;
const DEFAULT_COOLDOWN_MS = 60_000;
/** Rules read from clips. */
const SCREEN_RULES = new Set(['text', 'object_appears', 'object_leaves', 'object_count', 'scene_change', 'judged']);

export interface WatchHost {
  readonly memoryId: string;
  /** 'media': files and evaluations, where a gap is not measured in wall time. */
  readonly clock: 'live' | 'media';
  /** Media ms the session has heard: the judge's rate limit counts it on the media clock. */
  readonly mediaMs: number;
  /** Nobody speaks, no turn is open, no answer is in flight or prepared: a gap to speak in. */
  quiet(): boolean;
  /** Starts a proactive answer with these words; false when it could not start now. */
  speakUp(text: string, metadata: Record<string, string>): boolean;
  emit(event: ServerEventBody): void;
  fail(code: string, error: unknown): void;
  /** The clip on screen now: appears/leaves/count rules compare against it. */
  currentClip(): ClipObservation | undefined;
}

export interface SessionWatchesOptions {
  book: WatchBook;
  /** A language model for conditions the rules cannot read; absent: such conditions are refused. */
  judge?: WatchJudge;
  logger: Logger;
}

/** What a client asks for (omnilive.watch.create), before it is understood. */
export interface WatchRequest {
  condition: string;
  mode?: WatchMode;
  cooldownMs?: number;
  expiresInMs?: number;
}

interface Announcement {
  watch: Watch;
  evidence: WatchEvidence;
  at: number;
}

export class SessionWatches {
  readonly #host: WatchHost;
  readonly #options: SessionWatchesOptions;
  readonly #checkers = new Map<string, WatchChecker>();
  /** Observations are checked one after another, in the order the session made them. */
  #checking: Promise<void> = Promise.resolve();
  readonly #announcements: Announcement[] = [];
  #gapTimer: NodeJS.Timeout | undefined;
  /** Wall time the session was last seen not quiet (speech, an open turn, an answer). */
  #lastNoise = 0;
  readonly #abort = new AbortController();
  #watchingScreen = false;

  constructor(host: WatchHost, options: SessionWatchesOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** Whether one of the user's watches (as last read) waits on something seen: clips should come quickly. */
  get watchingScreen(): boolean {
    return this.#watchingScreen;
  }

  /** Reads the user's watches (at the start, and once the user is named). */
  async refresh(): Promise<void> {
    this.#noteWatches(await this.#options.book.of(this.#host.memoryId));
  }

  /** Understands a condition: a rule, else the judge's question, else a clear refusal. */
  spec(request: WatchRequest, now = Date.now()): WatchSpec {
    const condition = request.condition.trim();
    const rule = parseCondition(condition) ?? (this.#options.judge ? { kind: 'judged' as const, question: condition } : undefined);
    if (!rule) {
      throw new ClientError(
        'watch_condition_unsupported',
        `cannot watch for "${condition}" without a language model: rules understand text on screen, objects appearing or leaving (COCO labels), someone saying a phrase, sounds (alarm, siren, knock, music, speech) and scene changes`,
        'condition',
      );
    }
    return {
      condition,
      rule,
      mode: request.mode ?? 'once',
      cooldownMs: request.cooldownMs ?? DEFAULT_COOLDOWN_MS,
      ...(request.expiresInMs !== undefined ? { expiresAt: now + request.expiresInMs } : {}),
    };
  }

  /** omnilive.watch.create */
  async create(request: WatchRequest, requestId?: string): Promise<Watch> {
    const spec = this.spec(request);
    const watch = await this.#options.book.create(this.#host.memoryId, spec);
    this.#created(watch, requestId);
    return watch;
  }

  /** omnilive.watch.list */
  async list(requestId?: string): Promise<void> {
    const watches = await this.#options.book.of(this.#host.memoryId);
    this.#host.emit({ type: 'omnilive.watch.listed', request_id: requestId ?? null, watches: watches.map(wireWatch) });
  }

  /** omnilive.watch.delete */
  async delete(id: string, requestId?: string): Promise<void> {
    const gone = await this.#options.book.delete(this.#host.memoryId, id);
    if (!gone) throw new ClientError('watch_not_found', `this user has no watch '${id}'`, 'watch_id');
    this.#checkers.delete(id);
    this.#noteWatches(await this.#options.book.of(this.#host.memoryId));
    this.#host.emit({ type: 'omnilive.watch.deleted', request_id: requestId ?? null, watch_id: id });
  }

  #noteWatches(watches: readonly Watch[]): void {
    this.#watchingScreen = watches.some((w) => SCREEN_RULES.has(w.rule.kind));
  }

  /** Announces a new watch; text already on screen is news at once. */
  #created(watch: Watch, requestId?: string): void {
    if (SCREEN_RULES.has(watch.rule.kind)) this.#watchingScreen = true;
    this.#host.emit({ type: 'omnilive.watch.created', request_id: requestId ?? null, watch: wireWatch(watch), confirmation: describeWatch(watch) });
    const onScreen = this.#checker(watch).checkBaseline();
    if (onScreen) this.#checking = this.#checking.then(() => this.#fire(watch, onScreen, Date.now())).catch((error) => this.#host.fail('watch_check_failed', error));
  }

  /** Whether the person's words ask for a watch ("tell me when …"): such a turn is answered by `fromRequest`. */
  isRequest(text: string): boolean {
    return parseWatchRequest(text) !== undefined;
  }

  /**
   * "Tell me when …": makes the watch (saved in the background) and returns the one sentence
   * that confirms it, or says why it cannot be watched. Undefined when the words ask for none.
   */
  fromRequest(text: string): { script: string; metadata: Record<string, string> } | undefined {
    const request = parseWatchRequest(text);
    if (!request) return undefined;
    let spec: WatchSpec;
    try {
      spec = this.spec({ condition: request.condition, mode: request.mode });
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      return { script: `I can't watch for that without a language model. I can tell you when text shows on screen, an object appears or leaves, someone says a phrase, I hear an alarm, siren, knock or music, or the scene changes.`, metadata: { watch_request: 'refused' } };
    }
    this.#options.book.create(this.#host.memoryId, spec).then(
      (watch) => this.#created(watch),
      (error) => this.#host.fail('watch_create_failed', error),
    );
    return { script: describeWatch(spec), metadata: { watch_request: 'created' } };
  }

  /** Something new was seen or heard: every active watch of the user is checked on it. */
  observe(observation: Observation): void {
    this.#checking = this.#checking.then(() => this.#check(observation)).catch((error) => this.#host.fail('watch_check_failed', error));
  }

  /** Resolves once every observation so far was checked (and, when the session is quiet, announced). */
  async idle(): Promise<void> {
    await this.#checking;
    this.#trySpeaking();
  }

  parentClosed(): void {
    this.#abort.abort();
    clearTimeout(this.#gapTimer);
    this.#announcements.length = 0;
  }

  async #check(observation: Observation): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const { book } = this.#options;
    const memoryId = this.#host.memoryId;
    const now = Date.now();
    await book.expire(memoryId, now);
    const watches = await book.of(memoryId);
    this.#noteWatches(watches);
    for (const watch of watches) {
      // Checked while cooling down too, so that "the clip before" stays the one before.
      const evidence = await this.#checker(watch).check(observation, this.#abort.signal);
      if (!evidence || this.#abort.signal.aborted) continue;
      await this.#fire(watch, evidence, now);
    }
  }

  /** The watch held: recorded (unless cooling down or fired elsewhere), reported, announced. */
  async #fire(watch: Watch, evidence: WatchEvidence, now: number): Promise<void> {
    const fired = await this.#options.book.fired(watch, now);
    if (!fired) {
      // Cooling down, or another session of the user fired it first: still news if it holds on the next clip.
      this.#checkers.get(watch.id)?.rearm();
      return;
    }
    if (fired.mode === 'once') this.#checkers.delete(fired.id);
    this.#options.logger.info({ watch: fired.id, rule: fired.rule.kind, mediaMs: evidence.mediaMs }, 'watch fired');
    this.#host.emit({ type: 'omnilive.watch.fired', watch_id: fired.id, media_ms: Math.round(evidence.mediaMs), evidence: { kind: evidence.kind, text: evidence.text }, watch: wireWatch(fired) });
    this.#announce({ watch: fired, evidence, at: now });
  }

  #checker(watch: Watch): WatchChecker {
    let checker = this.#checkers.get(watch.id);
    if (!checker) {
      const host = this.#host;
      // On the media clock (files, evaluations) a judge is asked as often per media second as live.
      const now = host.clock === 'media' ? () => host.mediaMs : undefined;
      checker = new WatchChecker(watch, { judge: this.#options.judge, baseline: host.currentClip(), now });
      this.#checkers.set(watch.id, checker);
    }
    return checker;
  }

  #announce(announcement: Announcement): void {
    this.#announcements.push(announcement);
    this.#trySpeaking();
  }

  /** Speaks the oldest waiting announcement in the next gap of the person's speech. */
  #trySpeaking(): void {
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    const now = Date.now();
    while (this.#announcements.length > 0 && now - this.#announcements[0]!.at > MAX_ANNOUNCE_WAIT_MS) {
      const dropped = this.#announcements.shift()!;
      this.#options.logger.info({ watch: dropped.watch.id }, 'watch announcement dropped: no gap in the speech to say it in');
    }
    const next = this.#announcements[0];
    if (!next || this.#abort.signal.aborted) return;
    // A gap is GAP_MS of quiet in a row, seen by polling: not the instant a word ends.
    if (!this.#host.quiet()) this.#lastNoise = now;
    else if (now - this.#lastNoise >= (this.#host.clock === 'media' ? 0 : GAP_MS)) {
      const metadata = { proactive: 'true', watch_id: next.watch.id, watch_condition: next.watch.condition.slice(0, 512), evidence_media_ms: String(Math.round(next.evidence.mediaMs)) };
      if (this.#host.speakUp(announceWatch(next.watch, next.evidence), metadata)) this.#announcements.shift();
    }
    if (this.#announcements.length > 0) this.#gapTimer = setTimeout(() => this.#trySpeaking(), GAP_POLL_MS);
  }
}

export function wireWatch(watch: Watch): WireWatch {
  return {
    id: watch.id,
    condition: watch.condition,
    rule: { ...watch.rule },
    mode: watch.mode,
    cooldown_ms: watch.cooldownMs,
    expires_at: watch.expiresAt ?? null,
    created_at: watch.createdAt,
    fired_count: watch.firedCount,
    last_fired_at: watch.lastFiredAt ?? null,
  };
}
