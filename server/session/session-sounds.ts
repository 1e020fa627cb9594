/**
 * The session's ear for sounds other than words: the audio the session already decodes goes
 * to the sound-event engine, and each event it reports is told to the client
 * (`omnilive.sound_event`), to the watches, and kept for memory — with the clips that overlap
 * it, or, in a session without video, as a sound-only record of its own.
 */
import type { SoundEvent, SoundEventEngine, SoundEventStream } from '../perception/sound/types.ts';
import { formatMediaTime } from '../reasoning/llm/media-clock.ts';
import type { ClipRecord } from '../../memory/types.ts';
import type { ServerEventBody } from '../protocol/server-events.ts';

/** Pieces of one sound closer than this are one sound in memory. */
const JOIN_GAP_MS = 1500;
/** Sounds kept for clips still to be committed. */
const KEPT_MS = 10 * 60_000;

export interface SoundHost {
  emit(event: ServerEventBody): void;
  fail(code: string, error: unknown): void;
  /** Every reported event (watches check it). */
  heard(event: SoundEvent): void;
  /** A sound ended and no clip will hold it (no video): memory keeps it on its own. */
  keep(sound: SoundEvent): void;
  /** Whether the session sees: then sounds are kept with the clips that overlap them. */
  readonly seeing: boolean;
}

export class SessionSounds {
  readonly #stream: SoundEventStream;
  readonly #host: SoundHost;
  /** Sounds heard, pieces joined, oldest first. */
  readonly #sounds: SoundEvent[] = [];
  /** Sounds still going on, by label, not yet given to memory (sessions without video). */
  readonly #open = new Map<string, SoundEvent>();
  #closed = false;

  constructor(engine: SoundEventEngine, host: SoundHost) {
    this.#host = host;
    this.#stream = engine.open({
      onEvent: (event) => this.#onEvent(event),
      onError: (error) => host.fail('sound_events_failed', error),
    });
  }

  /** 16 kHz audio at media time `startMs`, in order. */
  push(pcm16k: Int16Array, startMs: number): void {
    if (!this.#closed) this.#stream.push(pcm16k, startMs);
  }

  /** The input ended: what is still sounding is reported and kept. */
  async flush(): Promise<void> {
    await this.#stream.flush();
    this.#keepOpen();
  }

  /** Sounds overlapping a clip's time, as memory stores them: "alarm (00:12–00:15)". */
  during(startMs: number, endMs: number): string[] {
    return this.#sounds.filter((s) => s.label !== 'speech' && s.endMs > startMs && s.startMs < endMs).map(soundText);
  }

  parentClosed(): void {
    if (this.#closed) return;
    this.#keepOpen();
    this.#closed = true;
    this.#stream.close();
  }

  #onEvent(event: SoundEvent): void {
    if (this.#closed) return;
    this.#host.emit({ type: 'omnilive.sound_event', label: event.label, start_ms: Math.round(event.startMs), end_ms: Math.round(event.endMs), score: Math.round(event.score * 1000) / 1000 });
    this.#host.heard(event);
    const last = this.#sounds.findLast((s) => s.label === event.label);
    if (last && event.startMs - last.endMs <= JOIN_GAP_MS) {
      last.endMs = Math.max(last.endMs, event.endMs);
      last.score = Math.max(last.score, event.score);
    } else {
      this.#sounds.push({ ...event });
    }
    while (this.#sounds.length > 0 && this.#sounds[0]!.endMs < event.endMs - KEPT_MS) this.#sounds.shift();
    if (this.#host.seeing || event.label === 'speech') return; // words are remembered as transcripts
    // Without video a sound is kept once it is over: no piece of it came for JOIN_GAP_MS.
    const current = this.#sounds.findLast((s) => s.label === event.label)!;
    for (const [label, sound] of this.#open) {
      if (sound !== current && (label === event.label || sound.endMs < event.startMs - JOIN_GAP_MS)) this.#keep(label);
    }
    this.#open.set(event.label, current);
  }

  #keepOpen(): void {
    for (const label of [...this.#open.keys()]) this.#keep(label);
  }

  #keep(label: string): void {
    const sound = this.#open.get(label);
    this.#open.delete(label);
    if (sound && !this.#host.seeing) this.#host.keep({ ...sound });
  }
}

/** A sound as one line of memory. */
export function soundText(sound: SoundEvent): string {
  return `${sound.label} (${formatMediaTime(sound.startMs)}–${formatMediaTime(sound.endMs)})`;
}

/** A sound heard in a session without video, as a memory record of its own (no frames). */
export function soundRecord(sound: SoundEvent, owner: { memoryId: string; sessionId: string; startWall: number }): ClipRecord {
  return {
    id: `sound_${owner.sessionId.slice(5, 13)}_${Math.round(sound.startMs)}_${sound.label.replace(/\W+/g, '-')}`,
    memoryId: owner.memoryId,
    sessionId: owner.sessionId,
    startMs: sound.startMs,
    endMs: sound.endMs,
    wallStartMs: owner.startWall + sound.startMs,
    frameCount: 0,
    thumbnail: new Uint8Array(0),
    ocrText: '',
    objects: [],
    transcript: '',
    soundEvents: [soundText(sound)],
  };
}
