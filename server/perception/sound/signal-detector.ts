/**
 * The default sound-event engine: signal processing only, no model. 16 kHz audio is cut into
 * 32 ms frames every 16 ms (spectrum.ts: our own radix-2 FFT), and each frame goes to three
 * detectors:
 *
 * - tonal-detector.ts: alarms (beeping or buzzing at one pitch) and sirens (a sweeping tone);
 * - transient-detector.ts: knocks and bangs (dropped when heard inside speech: syllables);
 * - texture-detector.ts: speech and music (music never while an alarm or siren sounds).
 *
 * All of it runs inside push(), on the caller's thread: about 0.1 ms per 32 ms of audio on a
 * loaded 2-core machine (benchmarks/sound-events). Events come out when a segment ends, or in
 * pieces of at most `maxEventMs` while it lasts; an alarm or a siren also as soon as it is sure.
 */
import { InvalidStateError } from '../../errors.ts';
import { EngineStream, EngineStreams, fillFromPcm16 } from './engine-streams.ts';
import { FRAME_SAMPLES, FrameAnalyzer, HOP_SAMPLES, SAMPLE_RATE } from './spectrum.ts';
import { defaultTextureOptions, TextureDetector, type TextureCues, type TextureOptions } from './texture-detector.ts';
import { defaultTonalOptions, TonalDetector, type TonalOptions } from './tonal-detector.ts';
import { defaultKnockOptions, TransientDetector, type KnockOptions } from './transient-detector.ts';
import { SOUND_LABELS, type SoundEvent, type SoundEventEngine, type SoundEventSink, type SoundEventStream } from './types.ts';

export interface SignalSoundOptions {
  /** Longest event: a sound that lasts is reported in pieces this long. @defaultValue 2000 */
  maxEventMs: number;
  /** Frames quieter than this (dB of full scale, above 100 Hz) are not looked at. @defaultValue -60 */
  minLevelDb: number;
  /** Alarms and sirens. */
  tonal: TonalOptions;
  /** Knocks and bangs. */
  knock: KnockOptions;
  /** Speech and music. */
  texture: TextureOptions;
}

export const defaultSignalSoundOptions = {
  maxEventMs: 2000,
  minLevelDb: -60,
  tonal: defaultTonalOptions,
  knock: defaultKnockOptions,
  texture: defaultTextureOptions,
} as const satisfies SignalSoundOptions;

/** What callers pass: any field, groups in part. */
export interface SignalSoundOptionsInput {
  maxEventMs?: number;
  minLevelDb?: number;
  tonal?: Partial<TonalOptions>;
  knock?: Partial<KnockOptions>;
  texture?: Partial<TextureOptions>;
}

/** Merges `input` over the defaults; a field that is not a finite number (or out of its range) is a TypeError naming it. */
export function resolveSignalSoundOptions(input: SignalSoundOptionsInput = {}): SignalSoundOptions {
  const options: SignalSoundOptions = {
    maxEventMs: input.maxEventMs ?? defaultSignalSoundOptions.maxEventMs,
    minLevelDb: input.minLevelDb ?? defaultSignalSoundOptions.minLevelDb,
    tonal: { ...defaultTonalOptions, ...input.tonal },
    knock: { ...defaultKnockOptions, ...input.knock },
    texture: { ...defaultTextureOptions, ...input.texture },
  };
  const check = (name: string, value: unknown, min: number, max = Infinity) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new TypeError(`sound option ${name} must be a number in [${min}, ${max}], got ${String(value)}`);
    }
  };
  check('maxEventMs', options.maxEventMs, 100);
  check('minLevelDb', options.minLevelDb, -120, 0);
  for (const [group, values] of [['tonal', options.tonal], ['knock', options.knock], ['texture', options.texture]] as const) {
    for (const [name, value] of Object.entries(values)) check(`${group}.${name}`, value, name.endsWith('Db') && group === 'tonal' ? -120 : 0);
  }
  check('tonal.tonalShare', options.tonal.tonalShare, 0, 1);
  check('tonal.minBeeps', options.tonal.minBeeps, 2);
  check('texture.windowMs', options.texture.windowMs, 256, 10000);
  return options;
}

/** Noise floor: falls fast, rises 1.25 dB/s, so a minute of steady noise becomes the floor and a sound does not. */
const FLOOR_FALL = 0.3;
const FLOOR_RISE_DB = 0.02;
/** A knock this close to speech is taken for part of it. */
const SPEECH_MARGIN_MS = 500;
/** The floor starts at the first frame's level, but no lower than this (digital silence would hold it down for a minute). */
const FLOOR_LOWEST_DB = -90;

export class SignalSoundEngine implements SoundEventEngine {
  readonly name = 'signal';
  readonly labels: readonly string[] = SOUND_LABELS;
  readonly options: Readonly<SignalSoundOptions>;
  readonly #streams = new EngineStreams<SignalSoundStream>();
  #closed = false;

  constructor(options: SignalSoundOptionsInput = {}) {
    this.options = resolveSignalSoundOptions(options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  open(sink: SoundEventSink): SignalSoundStream {
    if (this.#closed) throw new InvalidStateError('the signal sound engine is closed');
    return this.#streams.open(sink, (onClose) => new SignalSoundStream(this.options, sink, onClose));
  }

  /** Closes every open stream (without reporting what they had open). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.engineClosed();
  }
}

export class SignalSoundStream extends EngineStream implements SoundEventStream {
  readonly #options: SignalSoundOptions;
  readonly #sink: SoundEventSink;
  readonly #analyzer = new FrameAnalyzer();
  readonly #frame = new Float32Array(FRAME_SAMPLES);
  #filled = 0;
  /** Media ms just after the last sample taken in; NaN before the first push. */
  #clockMs = NaN;
  #floorDb = NaN;
  /** End of the last speech reported (media ms). */
  #speechEndMs = -Infinity;
  readonly #tonal: TonalDetector;
  readonly #transient: TransientDetector;
  readonly #texture: TextureDetector;

  constructor(options: SignalSoundOptions, sink: SoundEventSink, onClose: () => void) {
    super(onClose);
    this.#options = options;
    this.#sink = sink;
    const emit = (event: SoundEvent) => this.#emit(event);
    this.#tonal = new TonalDetector(options.tonal, options.maxEventMs, emit);
    this.#transient = new TransientDetector(options.knock, options.maxEventMs, (event) => this.#emitKnock(event));
    this.#texture = new TextureDetector(options.texture, options.maxEventMs, (event) => {
      if (event.label === 'speech') this.#speechEndMs = Math.max(this.#speechEndMs, event.endMs);
      emit(event);
    });
  }

  /** Diagnostics for the benchmark: each speech/music judgement's cues. */
  set onCues(listener: ((cues: TextureCues, endMs: number) => void) | undefined) {
    this.#texture.onCues = listener;
  }

  push(pcm16k: Int16Array, startMs: number): void {
    this.checkPush(pcm16k, startMs);
    // A gap or a jump back in media time: the frame being filled would mix two moments.
    if (Number.isNaN(this.#clockMs) || Math.abs(startMs - this.#clockMs) > 1000 / SAMPLE_RATE + 1) this.#filled = 0;
    let clockMs = startMs;
    let i = 0;
    while (i < pcm16k.length) {
      const take = fillFromPcm16(this.#frame, this.#filled, pcm16k, i);
      this.#filled += take;
      i += take;
      clockMs = startMs + (i * 1000) / SAMPLE_RATE;
      if (this.#filled === FRAME_SAMPLES) {
        this.#analyze(clockMs - (FRAME_SAMPLES * 1000) / SAMPLE_RATE);
        this.#frame.copyWithin(0, HOP_SAMPLES);
        this.#filled = FRAME_SAMPLES - HOP_SAMPLES;
      }
      if (this.closed) return; // a listener closed it
    }
    this.#clockMs = clockMs;
  }

  /** Reports every open segment (the input ended); the next push starts afresh. */
  flush(): Promise<void> {
    if (!this.closed) {
      this.#tonal.end();
      this.#transient.end();
      this.#texture.end();
      this.#filled = 0;
      this.#clockMs = NaN;
    }
    return Promise.resolve();
  }

  #analyze(startMs: number): void {
    const f = this.#analyzer.analyze(this.#frame, startMs);
    if (Number.isNaN(this.#floorDb)) this.#floorDb = Math.max(f.db, FLOOR_LOWEST_DB);
    else if (f.db < this.#floorDb) this.#floorDb += (f.db - this.#floorDb) * FLOOR_FALL;
    else this.#floorDb += Math.min(FLOOR_RISE_DB, f.db - this.#floorDb);
    const audible = f.db >= this.#options.minLevelDb;
    const tonal = audible && this.#tonal.isTonal(f);
    this.#tonal.frame(f, audible, this.#texture.music.open);
    const tonalEvent = this.#tonal.alarm.open || this.#tonal.siren.open;
    this.#texture.frame(f, this.#floorDb, audible, tonal, tonalEvent);
    const musical = this.#texture.musical;
    if (musical) this.#transient.suppress();
    this.#transient.frame(f, audible, tonal, musical);
  }

  /** A knock inside speech was a syllable: knocks come out late enough (after a pause) to know. */
  #emitKnock(event: SoundEvent): void {
    const speech = this.#texture.speech;
    if (speech.open && speech.startMs <= event.endMs + SPEECH_MARGIN_MS) return;
    if (this.#speechEndMs >= event.startMs - SPEECH_MARGIN_MS) return;
    this.#emit(event);
  }

  #emit(event: SoundEvent): void {
    if (this.closed) return;
    try {
      this.#sink.onEvent(event);
    } catch (error) {
      // A listener's bug must not break the audio path that called push().
      try {
        this.#sink.onError(error);
      } catch {}
    }
  }
}
