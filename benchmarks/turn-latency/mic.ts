/**
 * The turn-latency benchmark's live microphone: pcm16 chunks at real time over the session's
 * WebSocket (silence when nobody talks), and the sounds it plays, at the session's input rate.
 */
import WebSocket from 'ws';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { Resampler } from '../../server/audio/resampler.ts';
import { SPEECH_LEVEL, speechBounds } from '../../test/helpers/paused-speech.ts';

export const INPUT_RATE = 24000; // the default session's input format
export const OUTPUT_RATE = 24000;
export { SPEECH_LEVEL };

/** A sound for the mic at INPUT_RATE, with where the sound itself (|x| ≥ −40 dBFS) starts and ends. */
export interface Utterance {
  text: string;
  pcm: Int16Array;
  /** Sample indices of the first and last sample at or above −40 dBFS. */
  onset: number;
  offset: number;
}

/**
 * Flite's 16 kHz speech (or any 16 kHz sound) up to the session's rate, as a real client sends
 * it. Resampling keeps every position in ms, so marks of the 16 kHz signal still hold.
 */
export function toInput(text: string, pcm16k: Int16Array): Utterance {
  const pcm = Resampler.convert(pcm16k, 16000, INPUT_RATE);
  const { start, end } = speechBounds(pcm, SPEECH_LEVEL);
  return { text, pcm, onset: start, offset: end };
}

/** Where a said sound landed: wall times of the chunks holding its onset and offset, and media ms. */
export interface Said {
  onsetAt: number;
  offsetAt: number;
  onsetMs: number;
  offsetMs: number;
  /** Media ms of the sound's first sample: a position p ms into the sound is at startMs + p. */
  startMs: number;
}

interface Speaking {
  u: Utterance;
  firstChunk: number; // index of the chunk holding the utterance's first sample
  pos: number; // next sample to send
  onsetAt?: number;
  offsetAt?: number;
  done: () => void;
}

/**
 * A live microphone: sends one chunk every `chunkMs` for the whole run (silence unless
 * something is being said), because a live session's clock only moves with input audio.
 */
export class Mic {
  readonly #ws: WebSocket;
  readonly chunkMs: number;
  readonly #chunk: number;
  #t0 = 0;
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #speech: Speaking | undefined;
  /** Wall time each chunk left, by chunk index: chunk k holds media ms [k·chunkMs, (k+1)·chunkMs). */
  readonly sentAt: number[] = [];
  /** How late each chunk left versus its schedule: shows event-loop stalls (the server shares this process). */
  readonly lateness: number[] = [];

  constructor(ws: WebSocket, chunkMs: number) {
    this.#ws = ws;
    this.chunkMs = chunkMs;
    this.#chunk = (INPUT_RATE * chunkMs) / 1000;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#tick();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /** Media ms of the audio sent so far. */
  get mediaMs(): number {
    return this.#sent * this.chunkMs;
  }

  /**
   * Queues a sound; resolves with the wall times the chunks holding its onset and offset
   * left, and where it falls on the session's media clock.
   */
  say(u: Utterance): Promise<Said> {
    if (this.#speech) throw new Error('the mic is already playing speech');
    return new Promise((resolve) => {
      const speech: Speaking = {
        u,
        firstChunk: -1,
        pos: 0,
        done: () => {
          const mediaMs = (sample: number) => ((speech.firstChunk * this.#chunk + sample) * 1000) / INPUT_RATE;
          resolve({ onsetAt: speech.onsetAt!, offsetAt: speech.offsetAt!, onsetMs: mediaMs(u.onset), offsetMs: mediaMs(u.offset), startMs: mediaMs(0) });
        },
      };
      this.#speech = speech;
    });
  }

  /** When the chunk holding a media time left (undefined: not sent yet). */
  sentAtMedia(ms: number): number | undefined {
    return this.sentAt[Math.floor(ms / this.chunkMs)];
  }

  #tick = (): void => {
    const now = performance.now();
    // Catch up after a stall, like a buffered mic would, rather than skip audio.
    while (this.#t0 + this.#sent * this.chunkMs <= now) {
      this.lateness.push(now - (this.#t0 + this.#sent * this.chunkMs));
      this.#send();
    }
    this.#timer = setTimeout(this.#tick, this.#t0 + this.#sent * this.chunkMs - performance.now());
  };

  #send(): void {
    const chunk = new Int16Array(this.#chunk);
    const s = this.#speech;
    if (s) chunk.set(s.u.pcm.subarray(s.pos, s.pos + this.#chunk));
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(chunk) }));
    const sentAt = performance.now();
    this.sentAt.push(sentAt);
    this.#sent++;
    if (!s) return;
    if (s.firstChunk < 0) s.firstChunk = this.#sent - 1;
    const end = s.pos + this.#chunk;
    if (s.u.onset >= s.pos && s.u.onset < end) s.onsetAt = sentAt;
    if (s.u.offset >= s.pos && s.u.offset < end) s.offsetAt = sentAt;
    s.pos = end;
    if (s.pos >= s.u.pcm.length) {
      this.#speech = undefined;
      s.done();
    }
  }
}
