import type { EndOfTurnModel } from './end-of-turn-model.ts';
import { endProsody } from './prosody.ts';
import { SpeechSegmenter, defaultServerVadOptions, type SegmenterEvent, type ServerVadOptions } from '../../perception/vad/index.ts';

/** How a session decides where a user's turn starts and ends (`audio.input.turn_detection`). */
export type EndpointingMode = 'server_vad' | 'semantic_vad' | 'manual';

/**
 * What endpointing decides on the media clock: speech started / stopped (the turn ends), and,
 * for policies that prepare answers early, a pause long enough to start preparing
 * (`speech_paused`) and speech going on after such a pause (`speech_resumed`).
 */
export type EndpointingEvent =
  | SegmenterEvent
  | { type: 'speech_paused'; audioEndMs: number; decidedAtMs: number }
  | { type: 'speech_resumed'; decidedAtMs: number };

/** What can tell whether the words heard so far finish a turn, beyond the silence. */
export interface TurnCues {
  /** The transcript so far: an ASR partial, or the final of the words before a pause. */
  words: string;
  /** Pitch movement where speech stopped (a fall ends statements). */
  pitch?: 'falling' | 'rising' | 'flat' | 'unknown';
  /** An end-of-turn model's probability that the turn is finished, when one is loaded. */
  modelProbability?: number;
}

/**
 * An end-of-turn policy. It sees every frame's speech probability and, for policies that read
 * words, every ASR partial; it answers with speech started / stopped decisions on the media clock.
 */
export interface Endpointing {
  readonly mode: EndpointingMode;
  /** Whether it needs VAD probabilities (manual turns do not: all audio is the turn). */
  readonly usesVad: boolean;
  /** Whether the words decide the end of the turn (so on a media clock, frames wait for them). */
  readonly readsWords: boolean;
  /** Whether the user is speaking now, as far as this policy knows. */
  readonly speaking: boolean;
  /** Audio kept before the detected start of speech. */
  readonly prefixPaddingMs: number;
  push(frameStartMs: number, frameMs: number, probability: number): EndpointingEvent | undefined;
  /** What is known of the open turn's words (every ASR partial; the final and prosody at a pause). */
  onTranscript(cues: TurnCues): void;
  reset(): void;
}

export type ServerVadEndpointingOptions = ServerVadOptions;
export const defaultServerVadEndpointingOptions: ServerVadEndpointingOptions = { ...defaultServerVadOptions };

/** `server_vad`: a fixed silence after speech ends the turn, whatever the words. */
export class ServerVadEndpointing implements Endpointing {
  readonly mode = 'server_vad';
  readonly usesVad = true;
  readonly readsWords = false;
  readonly #segmenter: SpeechSegmenter;

  constructor(options: Partial<ServerVadEndpointingOptions> = {}) {
    this.#segmenter = new SpeechSegmenter({ ...defaultServerVadEndpointingOptions, ...options });
  }

  get speaking(): boolean {
    return this.#segmenter.speaking;
  }

  get prefixPaddingMs(): number {
    return this.#segmenter.options.prefixPaddingMs;
  }

  configure(options: Partial<ServerVadEndpointingOptions>): void {
    this.#segmenter.configure(options);
  }

  push(frameStartMs: number, frameMs: number, probability: number): EndpointingEvent | undefined {
    return this.#segmenter.push(frameStartMs, frameMs, probability);
  }

  onTranscript(_cues: TurnCues): void {} // silence alone decides

  reset(): void {
    this.#segmenter.reset();
  }
}

/** `turn_detection: null`: every appended sound is the turn; `input_audio_buffer.commit` ends it. */
export class ManualEndpointing implements Endpointing {
  readonly mode = 'manual';
  readonly usesVad = false;
  readonly readsWords = false;
  readonly speaking = false;
  readonly prefixPaddingMs = 0;
  push(): undefined {
    return undefined;
  }
  onTranscript(): void {}
  reset(): void {}
}

export type Eagerness = 'low' | 'medium' | 'high' | 'auto';
type Completeness = 'complete' | 'unfinished' | 'unknown';

/** Silence (ms) that ends a turn whose words sound complete / unfinished / unknown yet, per eagerness. */
export interface SemanticEndpointingOptions extends ServerVadEndpointingOptions {
  eagerness: Eagerness;
  complete: Record<Exclude<Eagerness, 'auto'>, number>;
  unfinished: Record<Exclude<Eagerness, 'auto'>, number>;
  unknown: Record<Exclude<Eagerness, 'auto'>, number>;
  /** Silence after which an answer is prepared (held until the turn ends). @defaultValue 64 */
  prepareAfterMs: number;
  /** An end-of-turn model at or above this says complete, at or below 1 − it says unfinished. @defaultValue 0.7 */
  modelConfidence: number;
}

export const defaultSemanticEndpointingOptions: SemanticEndpointingOptions = {
  ...defaultServerVadEndpointingOptions,
  eagerness: 'auto',
  // A finished question ends its turn after about a fifth of a second (auto = medium, as OpenAI's);
  // an unfinished clause waits up to 1.5 s, the ceiling of a mid-sentence pause.
  complete: { high: 150, medium: 200, low: 400 },
  unfinished: { high: 900, medium: 1500, low: 2500 },
  unknown: { high: 350, medium: 550, low: 900 },
  prepareAfterMs: 64,
  modelConfidence: 0.7,
};

/** Words a sentence does not end on: articles, conjunctions, prepositions, fillers. */
const DANGLING = new Set(['the', 'a', 'an', 'and', 'or', 'but', 'so', 'because', 'to', 'of', 'in', 'on', 'at', 'for', 'with', 'from', 'about', 'um', 'uh', 'er', 'hmm', 'like', 'my', 'your', 'his', 'her', 'their', 'our', 'some', 'is', 'are', 'was', 'i', 'if', 'than', 'then', 'that', 'which', 'when']);
const QUESTION_START = /^(what|who|whom|whose|where|when|why|how|which|is|are|was|were|do|does|did|can|could|will|would|should|shall|may|have|has)\b/;
/** Openers people pause after while they think ("so um…", "well…"): a short turn starting so is not done. */
const OPENER = /^(so|well|and|but|okay|ok|um|uh|er|like|right|now)\b/;
const COMMAND_START = /^(tell|show|give|find|stop|wait|read|describe|remind|look|say|repeat|help|search|play|open|close|turn|start|please)\b/;

/** How complete the words heard so far sound, by rules over the transcript. */
export function completeness(words: string): Completeness {
  const list = words.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  if (list.length === 0) return 'unknown';
  if (DANGLING.has(list.at(-1)!)) return 'unfinished';
  const text = list.join(' ');
  if (list.length <= 3 && OPENER.test(text)) return 'unfinished';
  if (list.length >= 3 && (QUESTION_START.test(text) || COMMAND_START.test(text))) return 'complete';
  if (list.length >= 6) return 'complete';
  return 'unknown';
}

/** What the voice says at a pause: the pitch movement where speech stopped, and the model's verdict when there is one. */
export async function turnCues(pcm: Int16Array, model: EndOfTurnModel | undefined, signal: AbortSignal): Promise<Omit<TurnCues, 'words'>> {
  const verdict = model?.probability(pcm.subarray(-Math.round((model.windowMs * 16000) / 1000)), signal);
  return { pitch: endProsody(pcm.subarray(-32000)).pitch, modelProbability: await verdict }; // the pitch reads the last 0.7 s
}

/**
 * How complete the turn sounds from all cues: a confident model decides; otherwise the words,
 * with a falling pitch settling words that alone cannot tell.
 */
export function turnCompleteness(cues: TurnCues, modelConfidence = defaultSemanticEndpointingOptions.modelConfidence): Completeness {
  const p = cues.modelProbability;
  if (p !== undefined && p >= modelConfidence) return 'complete';
  if (p !== undefined && p <= 1 - modelConfidence) return 'unfinished';
  const byWords = completeness(cues.words);
  if (byWords === 'unknown' && cues.pitch === 'falling' && cues.words.trim()) return 'complete';
  return byWords;
}

/**
 * `semantic_vad`: the silence that ends a turn depends on how complete the turn sounds — short
 * after a finished question or command, long after a trailing "the", "and" or "um" — scaled by
 * the eagerness. VAD still decides where speech starts and stops; the words set the wait. After
 * a short silence it reports a pause, so an answer can be prepared while the wait runs out.
 */
export class SemanticEndpointing implements Endpointing {
  readonly mode = 'semantic_vad';
  readonly usesVad = true;
  readonly readsWords = true;
  #options: SemanticEndpointingOptions;
  readonly #segmenter: SpeechSegmenter;
  /** A pause was reported in the current silence. */
  #paused = false;

  constructor(options: Partial<SemanticEndpointingOptions> = {}) {
    this.#options = { ...defaultSemanticEndpointingOptions, ...options };
    this.#segmenter = new SpeechSegmenter({ ...this.#options, silenceDurationMs: this.#silence('unknown') });
  }

  get speaking(): boolean {
    return this.#segmenter.speaking;
  }

  get prefixPaddingMs(): number {
    return this.#segmenter.options.prefixPaddingMs;
  }

  /** The silence the current words call for. */
  get silenceDurationMs(): number {
    return this.#segmenter.options.silenceDurationMs;
  }

  configure(options: Partial<SemanticEndpointingOptions>): void {
    this.#options = { ...this.#options, ...options };
    this.#segmenter.configure({ ...this.#options, silenceDurationMs: this.#segmenter.options.silenceDurationMs });
  }

  push(frameStartMs: number, frameMs: number, probability: number): EndpointingEvent | undefined {
    const event = this.#segmenter.push(frameStartMs, frameMs, probability);
    if (event?.type === 'speech_stopped') {
      this.#paused = false;
      this.#segmenter.configure({ silenceDurationMs: this.#silence('unknown') }); // the next turn starts unknown
      return event;
    }
    if (event) return event;
    const silentSince = this.#segmenter.silentSinceMs;
    const decidedAtMs = frameStartMs + frameMs;
    if (silentSince === undefined) {
      if (!this.#paused) return undefined;
      this.#paused = false;
      if (!this.#segmenter.speaking) return undefined;
      // The pause's verdict was about the words before it: new words are unknown until heard.
      this.#segmenter.configure({ silenceDurationMs: this.#silence('unknown') });
      return { type: 'speech_resumed', decidedAtMs };
    }
    if (!this.#paused && decidedAtMs - silentSince >= this.#options.prepareAfterMs) {
      this.#paused = true;
      return { type: 'speech_paused', audioEndMs: silentSince, decidedAtMs };
    }
    return undefined;
  }

  onTranscript(cues: TurnCues): void {
    this.#segmenter.configure({ silenceDurationMs: this.#silence(turnCompleteness(cues, this.#options.modelConfidence)) });
  }

  reset(): void {
    this.#segmenter.reset();
    this.#paused = false;
    this.#segmenter.configure({ silenceDurationMs: this.#silence('unknown') });
  }

  #silence(kind: Completeness): number {
    const eagerness = this.#options.eagerness === 'auto' ? 'medium' : this.#options.eagerness;
    return this.#options[kind][eagerness];
  }
}

/** A turn_detection setting as an endpointing policy's options. */
export interface EndpointingSettings extends Partial<ServerVadEndpointingOptions> {
  type: 'server_vad' | 'semantic_vad';
  eagerness?: Eagerness;
}

/** The policy for a turn_detection setting; reuses `current` when only its options change. */
export function createEndpointing(settings: EndpointingSettings | null, current?: Endpointing): Endpointing {
  if (settings === null) return current?.mode === 'manual' ? current : new ManualEndpointing();
  if (settings.type === 'semantic_vad') {
    const options = { threshold: settings.threshold, prefixPaddingMs: settings.prefixPaddingMs, minSpeechMs: settings.minSpeechMs, eagerness: settings.eagerness ?? 'auto' };
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    if (current instanceof SemanticEndpointing) {
      current.configure(defined);
      return current;
    }
    return new SemanticEndpointing(defined);
  }
  const { type: _type, eagerness: _eagerness, ...vad } = settings;
  if (current instanceof ServerVadEndpointing) {
    current.configure(vad);
    return current;
  }
  return new ServerVadEndpointing(vad);
}
