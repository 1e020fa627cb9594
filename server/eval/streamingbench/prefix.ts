/**
 * Prefix mode: the official evaluation. For each question, the frames of [t − C, t) (see
 * frames.ts) and the official prompt go to the reasoner, nothing else: a language model gets
 * them as images in one user message (frames, then the prompt, as the official model wrappers
 * send them); without one, the option scorer reads the frames' facts (text on screen, objects).
 * Proactive questions are polled once a second on [t, now) as in StreamingBenchProactive.py.
 */
import { clipScene } from '../../perception/video/clip-scene.ts';
import OpenAI from 'openai';
import type { ChatCompletionContentPart } from 'openai/resources/chat/completions';
import { thumbnail } from '../../perception/video/pipeline.ts';
import type { FrameFacts, FactsReader } from '../../perception/video/facts.ts';
import type { VideoFrame } from '../../perception/video/types.ts';
import type { RemoteEndpoint } from '../../config.ts';
import { mergeText } from '../../../memory/index.ts';
import { prefixFrameTimes, readFramesAt } from './frames.ts';
import { OptionScorer, parseMultipleChoice, type EvidenceDoc } from './option-scorer.ts';
import { proactivePrompt, proactiveQuery } from './prompts.ts';
import type { BenchQuestion } from './questions.ts';
import type { DialogTurn, ProactiveResponse } from './scoring.ts';

/** Width of the frames sent to a language model (the official wrappers send full frames; models resize). */
const FRAME_WIDTH = 640;

/** What answers a prefix question: a model that looks at frames, or the option scorer reading their facts. */
export type PrefixAnswerer =
  | { kind: 'model'; name: string; ask(prompt: string, frames: Uint8Array[], signal?: AbortSignal): Promise<string> }
  | { kind: 'scorer'; name: string; scorer: OptionScorer; reader: FactsReader };

/** What OpenAICompatibleReasoner calls itself, so prefix and stream runs of one model carry one name. */
export const modelReasonerName = (model: string) => `openai-compatible:${model}`;

/** An OpenAI-compatible vision model asked the official way: frames then the prompt, greedy. */
export function modelAnswerer(llm: RemoteEndpoint & { url: string; model: string }): PrefixAnswerer & { kind: 'model' } {
  const client = new OpenAI({ baseURL: llm.url, apiKey: llm.apiKey || 'none', maxRetries: 2, timeout: 120_000 });
  return {
    kind: 'model',
    name: modelReasonerName(llm.model),
    async ask(prompt, frames, signal) {
      const content: ChatCompletionContentPart[] = [
        ...frames.map((jpeg) => ({ type: 'image_url' as const, image_url: { url: `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}` } })),
        { type: 'text', text: prompt },
      ];
      const reply = await client.chat.completions.create({ model: llm.model, temperature: 0, max_tokens: 256, messages: [{ role: 'user', content }] }, { signal });
      return reply.choices[0]?.message?.content ?? '';
    },
  };
}

/** The facts of one frame as evidence for the option scorer. */
function frameEvidence(second: number, facts: FrameFacts): EvidenceDoc {
  const scene = clipScene(facts);
  return {
    id: `frame@${second}`,
    startMs: second * 1000,
    endMs: second * 1000 + 1000,
    text: [mergeText(facts.ocr.map((l) => l.text)), ...facts.objects.map((o) => o.label)].join('\n'),
    source: 'screen',
    counts: Object.fromEntries(facts.objects.map((o) => [o.label, o.count])),
    ...(scene ? { scene } : {}),
  };
}

export interface PrefixVideoOptions {
  file: string;
  questions: BenchQuestion[];
  /** Official prompt of each multiple-choice question, by key. */
  prompts: Map<string, string>;
  answerer: PrefixAnswerer;
  /** Seconds before the question (C); ≤ 0: from the start. */
  context: number;
  maxFrames: number;
  onAnswer: (q: BenchQuestion, response: string | ProactiveResponse, details: Record<string, unknown>) => void;
  /** Video decoded, ms at a time. */
  onMedia?: (ms: number) => void;
  signal?: AbortSignal;
}

/** The polls of a proactive question: t+1 … ground truth + 4 s, as the official loop. */
function pollTimes(q: BenchQuestion): number[] {
  const times: number[] = [];
  for (let s = q.timeS + 1; s <= q.groundTruthTimeS! + 4; s++) times.push(s);
  return times;
}

/** Answers the questions of one video. */
export async function runPrefixVideo(o: PrefixVideoOptions): Promise<void> {
  const framesOf = (q: BenchQuestion, at = q.timeS) => (q.groundTruthOutput === undefined ? prefixFrameTimes(at, o.context, o.maxFrames) : prefixFrameTimes(at, at - q.timeS, o.maxFrames));
  const needed = new Set<number>();
  for (const q of o.questions) {
    const times = q.groundTruthOutput === undefined ? [q.timeS] : pollTimes(q);
    for (const at of times) for (const s of framesOf(q, at)) needed.add(s);
  }
  const answerer = o.answerer;
  const read = answerer.kind === 'model'
    ? (frame: VideoFrame) => thumbnail(frame, FRAME_WIDTH).then((jpeg) => new Uint8Array(jpeg))
    : (frame: VideoFrame) => answerer.reader.read(frame).then((facts) => frameEvidence(Math.round(frame.t / 1000), facts));
  const frames = (await readFramesAt<Uint8Array | EvidenceDoc>(o.file, needed, read, o.signal, () => o.onMedia?.(1000))) as Map<number, Uint8Array | EvidenceDoc>;
  const pick = (seconds: number[]) => seconds.filter((s) => frames.has(s)).map((s) => frames.get(s)!);
  const ask = async (prompt: string, seconds: number[], nowS: number): Promise<string> => {
    const shown = pick(seconds);
    if (answerer.kind === 'model') return answerer.ask(prompt, shown as Uint8Array[], o.signal);
    const mc = parseMultipleChoice(prompt);
    return mc ? answerer.scorer.answer(mc, shown as EvidenceDoc[]) : answerer.scorer.answerProactive(prompt, shown as EvidenceDoc[], nowS * 1000);
  };
  for (const q of o.questions) {
    if (o.signal?.aborted) break;
    const started = performance.now();
    if (q.groundTruthOutput === undefined) {
      const seconds = framesOf(q);
      const response = await ask(o.prompts.get(q.key)!, seconds, q.timeS);
      o.onAnswer(q, response, { frames: pick(seconds).length, first_frame_s: seconds[0] ?? null, last_frame_s: seconds.at(-1) ?? null, wall_ms: Math.round(performance.now() - started) });
      continue;
    }
    const query = proactiveQuery(q);
    const dialog: DialogTurn[] = [];
    let answered: number | false = false;
    for (const now of pollTimes(q)) {
      const seconds = framesOf(q, now);
      let t0 = performance.now();
      const reply = await ask(proactivePrompt(query), seconds, now);
      let cost = (performance.now() - t0) / 1000;
      dialog.push({ role: 'user', content: query, time: now, cost }, { role: 'assistant', content: reply, time: now, cost });
      if (reply.trim().toLowerCase().includes('yes')) {
        t0 = performance.now();
        const output = await ask(proactivePrompt(q.question), seconds, now);
        cost = (performance.now() - t0) / 1000;
        dialog.push({ role: 'user', content: q.question, time: now, cost }, { role: 'assistant', content: output, time: now, cost });
        answered = now;
        break;
      }
    }
    o.onAnswer(q, { answered, dialog_history: dialog }, { polls: dialog.filter((d) => d.role === 'user' && d.content === query).length });
  }
}
