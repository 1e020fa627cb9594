/**
 * Engine stand-ins behind the engine interfaces, for unit tests of the session's parts: no
 * Silero, pocketsphinx or Flite, so a test drives frames in and asserts events out, fast and
 * deterministic. Loud samples are "speech"; words come from a script.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AsrEngine, AsrRecognizer, AsrResult } from '../../server/perception/asr/types.ts';
import type { VadEngine, VadStream } from '../../server/perception/vad/index.ts';
import type { Reasoner, ReasonerDelta, ReasonerRequest } from '../../server/reasoning/index.ts';
import type { SessionEngines } from '../../server/session/session.ts';
import type { SpeechAudio, SynthesizeOptions, TtsEngine } from '../../server/speech/index.ts';

export const RATE = 16000;

/** `ms` of "speech": a loud square wave the energy VAD calls speech. */
export function loud(ms: number): Int16Array {
  const pcm = new Int16Array(Math.round((RATE * ms) / 1000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = (i >> 4) % 2 ? 8000 : -8000;
  return pcm;
}

export function quiet(ms: number): Int16Array {
  return new Int16Array(Math.round((RATE * ms) / 1000));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Speech probability from frame energy: 0.95 when loud, 0.02 when not. */
export class EnergyVad implements VadEngine {
  readonly name = 'energy-stand-in';
  createStream(): VadStream {
    return {
      probability: async (frame: Float32Array) => {
        let sum = 0;
        for (const x of frame) sum += x * x;
        return Math.sqrt(sum / frame.length) > 0.05 ? 0.95 : 0.02;
      },
      reset: () => {},
    };
  }
}

/** Hears the next sentence of its script per utterance; partials grow a word per accepted batch. */
export class ScriptedAsr implements AsrEngine {
  readonly name = 'scripted-asr';
  readonly script: string[];
  constructor(
    script: string[] = [],
    readonly options: { failFinish?: string } = {},
  ) {
    this.script = [...script];
  }
  async createRecognizer(): Promise<AsrRecognizer> {
    const engine = this;
    let words: string[] = [];
    let heard = 0;
    let closed = false;
    return {
      get closed() {
        return closed;
      },
      start() {
        words = (engine.script.shift() ?? '').split(' ').filter(Boolean);
        heard = 0;
      },
      async accept() {
        heard = Math.min(words.length, heard + 1);
        return words.slice(0, heard).join(' ');
      },
      async finish(): Promise<AsrResult> {
        if (engine.options.failFinish) throw new Error(engine.options.failFinish);
        return { text: words.join(' '), computeMs: 1 };
      },
      cancel() {
        words = [];
      },
      close() {
        closed = true;
      },
    };
  }
  async close(): Promise<void> {}
}

/** 100 ms of tone per word; `delayMs` per sentence stands for synthesis time. */
export class ToneTts implements TtsEngine {
  readonly name = 'tone-tts';
  readonly voices = ['slt', 'awb'];
  constructor(readonly options: { msPerWord?: number; delayMs?: number } = {}) {}
  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<SpeechAudio> {
    if (this.options.delayMs) await sleep(this.options.delayMs, undefined, { signal: options.signal });
    options.signal?.throwIfAborted();
    const ms = text.split(' ').length * (this.options.msPerWord ?? 100);
    return { pcm: loud(ms), sampleRate: RATE };
  }
  async close(): Promise<void> {}
}

/** Answers from a script (or "answer N") and records every request it was given. */
export class ScriptedReasoner implements Reasoner {
  readonly name = 'scripted-reasoner';
  readonly usesLanguageModel = true;
  readonly requests: ReasonerRequest[] = [];
  constructor(readonly options: { answers?: string[]; deltaDelayMs?: number; fail?: string; toolCall?: { name: string; arguments: string } } = {}) {}
  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
    this.requests.push(structuredClone({ ...request, transcript: undefined }) as unknown as ReasonerRequest);
    if (this.options.fail) throw new Error(this.options.fail);
    const call = this.options.toolCall;
    if (call) {
      // Streams the call's arguments a character at a time, as a model writes them.
      for (const [i, ch] of [...call.arguments].entries()) {
        if (this.options.deltaDelayMs) await sleep(this.options.deltaDelayMs, undefined, { signal });
        if (signal.aborted) return;
        yield { type: 'tool_call', index: 0, ...(i === 0 ? { callId: 'call_1', name: call.name } : {}), arguments: ch };
      }
      return;
    }
    const text = this.options.answers?.[this.requests.length - 1] ?? `Answer ${this.requests.length}.`;
    for (const word of text.split(' ')) {
      if (this.options.deltaDelayMs) await sleep(this.options.deltaDelayMs, undefined, { signal });
      if (signal.aborted) return;
      yield { type: 'text', text: `${word} ` };
    }
  }
  async close(): Promise<void> {}
}

export function standInEngines(overrides: Partial<SessionEngines> = {}): SessionEngines {
  return { vad: new EnergyVad(), asr: new ScriptedAsr(), reasoner: new ScriptedReasoner(), tts: new ToneTts(), ...overrides };
}
