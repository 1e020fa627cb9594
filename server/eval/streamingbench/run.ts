/**
 * One evaluation run: check the input, find every video, take over earlier answers, answer
 * the rest video by video (several videos at once with `concurrency`), score the official way.
 */
import type { OmniLiveConfig } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { createEngines, createVision } from '../../engines.ts';
import { defaultInstructionFilterOptions } from '../../reasoning/index.ts';
import { describeEngines, type SessionEngines } from '../../session/engines.ts';
import { describeMachine, loadNow } from '../machine.ts';
import { OPTION_SCORER, OptionScorer } from './option-scorer.ts';
import { modelAnswerer, modelReasonerName, runPrefixVideo, type PrefixAnswerer } from './prefix.ts';
import { promptsFor } from './prompts.ts';
import { QuestionFileError, loadQuestionFile, resolveAllMedia, type BenchQuestion, type QuestionFileKind } from './questions.ts';
import { ResultsFile, type RunSettings } from './results.ts';
import { DEFAULT_PROACTIVE_MODES, PROACTIVE_MODES, proactiveOut, summarizeProactive, type ProactiveMode, type ProactiveSummary } from './proactive.ts';
import { MODEL_KEY, hasResponse, scoreQuestions, type ProactiveResponse, type Scores } from './scoring.ts';
import { runStreamVideo } from './stream.ts';
import { quantile } from '../stats.ts';

export type EvalMode = 'prefix' | 'stream';

export interface StreamingBenchOptions {
  questionsFile: string;
  /** The directory `video_path` and `audio_path` are relative to (the official data directory). */
  videosDir: string;
  mode: EvalMode;
  /** Prefix mode: seconds before each question (≤ 0: from the start). @defaultValue 60 */
  context: number;
  /** Prefix mode: most frames shown (MiniCPM-V's 64). @defaultValue 64 */
  maxFrames: number;
  /** Only the first N questions of the file. */
  limit?: number;
  /** Videos evaluated at once. @defaultValue 1 */
  concurrency: number;
  out: string;
  config: OmniLiveConfig;
  /** Engines to use instead of loading them (stream mode; tests share them between runs). */
  engines?: SessionEngines;
  /** For the engines it loads. @defaultValue silentLogger */
  logger?: Logger;
  /**
   * Stream mode, proactive questions: through a watch made at the question's time, by polling
   * once a second as the official script does, or both one after the other (each with its own
   * results file, `x.watch.json` and `x.poll.json`; compared in the report). @defaultValue ['watch']
   */
  proactive?: ProactiveMode[];
  /** Called before work starts, then after every question. */
  onProgress?: (progress: { done: number; total: number; mediaS: number; wallS: number }) => void;
  signal?: AbortSignal;
}

export interface StreamingBenchReport {
  benchmark: 'StreamingBench';
  questions_file: string;
  kind: QuestionFileKind;
  mode: EvalMode;
  /** Prefix mode only. */
  context_s: number | null;
  max_frames: number | null;
  out: string;
  /** Key of the responses in the results file (count.py --model). */
  model_key: string;
  reasoner: { name: string; language_model: boolean; method: string };
  engines: Record<string, unknown>;
  questions: { selected: number; answered_now: number; taken_over: number; failed: number };
  failures: { key: string; error: string }[];
  scores: Scores;
  /**
   * Stream mode on a proactive file: score, cost and latency per way of answering. With
   * several, everything above (scores, out, questions) is the first mode's.
   */
  proactive: ProactiveSummary[] | null;
  /** The whole run (every proactive mode). */
  throughput: { videos: number; media_s: number; wall_s: number; x_real_time: number | null; engine_load_s: number };
  /** Wall ms per answer in this run (stream: asking through the session; prefix: the reasoner on the frames; proactive: each poll or answer, of the first mode). */
  answer_ms: { p50: number; p95: number; max: number } | null;
  machine: Record<string, unknown>;
}

const METHODS = {
  streamModel: "the session's reasoner answers the official prompt with its long-term memory and latest keyframes",
  streamScorer:
    'no language model: each option is scored against the evidence the session memory retrieves for the question and for question + option (IDF-weighted word coverage of text on screen, object labels and counts, transcripts; colours, positions, people and kinds of things in the scene; listed order; time alignment; recency), ties broken by a hash of the question',
  prefixModel: 'the official prompt with the sampled frames as images, temperature 0',
  prefixScorer:
    'no language model: each option is scored against the text read on the sampled frames, their object labels and their scenes (colours, positions, people, kinds of things; IDF-weighted word coverage, listed order, time alignment, recency), ties broken by a hash of the question',
};


/** One pass over the questions: the only one, or one per proactive mode. */
interface Pass {
  proactive: ProactiveMode | null;
  selected: BenchQuestion[];
  results: ResultsFile;
  todo: BenchQuestion[];
  videos?: number;
  mediaS: number;
  wallS: number;
  done: number;
  failures: { key: string; error: string }[];
}

/** Groups questions by the video they need, in file order. */
function byVideo(questions: BenchQuestion[], videos: Map<string, string>): { file: string; questions: BenchQuestion[] }[] {
  const groups = new Map<string, BenchQuestion[]>();
  for (const q of questions) {
    const file = videos.get(q.videoPath)!;
    groups.set(file, [...(groups.get(file) ?? []), q]);
  }
  return [...groups].map(([file, qs]) => ({ file, questions: qs }));
}

export async function runStreamingBench(o: StreamingBenchOptions): Promise<StreamingBenchReport> {
  const loadAtStart = loadNow();
  if (o.mode !== 'prefix' && o.mode !== 'stream') throw new TypeError(`--mode takes prefix or stream, got '${o.mode}'`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new TypeError(`--concurrency takes a positive integer, got '${o.concurrency}'`);
  if (!Number.isInteger(o.context)) throw new TypeError(`--context takes whole seconds (-1: from the start), got '${o.context}'`);
  if (!Number.isInteger(o.maxFrames) || o.maxFrames < 1) throw new TypeError(`--frames takes a positive integer, got '${o.maxFrames}'`);
  if (o.proactive !== undefined) {
    if (!o.proactive.length || o.proactive.some((m) => !PROACTIVE_MODES.includes(m)) || new Set(o.proactive).size !== o.proactive.length) throw new TypeError(`--proactive takes poll, watch or poll,watch, got '${o.proactive.join(',')}'`);
    if (o.mode === 'prefix') throw new TypeError('--proactive applies to stream mode; prefix mode polls as the official script does');
  }
  // Everything about the input is checked before any engine loads.
  const file = loadQuestionFile(o.questionsFile);
  const selected = o.limit === undefined ? file.questions : file.questions.slice(0, o.limit);
  const media = resolveAllMedia(selected, o.videosDir, o.mode === 'stream');
  const usesModel = !!o.config.llm.url;
  if (o.mode === 'prefix' && !usesModel && !o.config.vision.enabled) {
    throw new QuestionFileError('prefix mode without a language model reads the text on the frames: it needs --vision on');
  }
  const prompts = file.kind === 'proactive' ? new Map<string, string>() : promptsFor(file.questions, file.kind === 'sqa' ? 'sqa' : 'standard');
  // Which reasoner answers decides whether earlier answers in --out can be reused: known before loading anything.
  const lm = o.mode === 'stream' && o.engines ? o.engines.reasoner.usesLanguageModel : usesModel;
  const reasonerName = !lm ? OPTION_SCORER : o.mode === 'stream' && o.engines ? o.engines.reasoner.name : modelReasonerName(o.config.llm.model!);
  const method = o.mode === 'stream' ? (lm ? METHODS.streamModel : METHODS.streamScorer) : lm ? METHODS.prefixModel : METHODS.prefixScorer;
  const reasoner = { name: reasonerName, language_model: lm, method };
  // Proactive questions in stream mode: one pass per way of answering them, each its own session per video and results file.
  const proactiveModes = file.kind === 'proactive' && o.mode === 'stream' ? (o.proactive ?? DEFAULT_PROACTIVE_MODES) : [null];
  const passes: Pass[] = proactiveModes.map((proactive, i) => {
    const questions = i === 0 ? file : loadQuestionFile(o.questionsFile);
    const run: RunSettings = { mode: o.mode, context: o.mode === 'prefix' ? o.context : null, frames: o.mode === 'prefix' ? o.maxFrames : null, reasoner: reasonerName, proactive };
    const out = proactive ? proactiveOut(o.out, proactive, proactiveModes.length > 1) : o.out;
    const selectedHere = o.limit === undefined ? questions.questions : questions.questions.slice(0, o.limit);
    return { proactive, selected: selectedHere, results: ResultsFile.open(out, questions, run), todo: selectedHere.filter((q) => !hasResponse(q)), mediaS: 0, wallS: 0, done: 0, failures: [] };
  });

  const loadStarted = performance.now();
  let close: (() => Promise<void>) | undefined;
  let engines: SessionEngines | undefined;
  let answerer: PrefixAnswerer | undefined;
  let described: Record<string, unknown>;
  if (o.mode === 'stream') {
    if (o.engines) engines = o.engines;
    else {
      const created = await createEngines(o.config, { logger: o.logger });
      engines = created;
      close = () => created.close();
    }
    // Answers are scored as text: the session runs text-only, so no speech is synthesized.
    const { tts: _, ...roles } = describeEngines(engines);
    described = { ...roles, reasoner: reasoner.name, language_model: lm, memory: engines.memory ? 'lancedb' : null, output: 'text' };
  } else if (usesModel) {
    const model = modelAnswerer({ ...o.config.llm, url: o.config.llm.url!, model: o.config.llm.model! });
    answerer = model;
    described = { reasoner: model.name, language_model: true, frames: 'JPEG, 640 wide' };
  } else {
    const seeing = await createVision(o.config);
    close = seeing.close;
    const reader = seeing.vision.facts.reader;
    const scorer = new OptionScorer();
    answerer = { kind: 'scorer', name: scorer.name, scorer, reader };
    described = { reasoner: scorer.name, language_model: false, ocr: reader.names.ocr ?? null, objects: reader.names.objects ?? null, image_embedding: reader.names.embedder ?? null };
  }
  const engineLoadS = (performance.now() - loadStarted) / 1000;

  const total = passes.reduce((n, p) => n + p.todo.length, 0);
  const started = performance.now();
  let done = 0;
  let mediaS = 0;
  const progress = () => o.onProgress?.({ done, total, mediaS, wallS: (performance.now() - started) / 1000 });
  let shown = 0;
  const answerMs: number[] = [];
  const settings = {
    videoFps: o.config.vision.fps,
    // The wake word is for rooms with several people; a benchmark's questions are all addressed to the assistant.
    filter: { ...defaultInstructionFilterOptions, mode: o.config.instructionFilter },
  };
  progress();
  try {
    for (const pass of passes) {
      if (o.signal?.aborted) break;
      const passStarted = performance.now();
      const onMedia = (ms: number) => {
        mediaS += ms / 1000;
        pass.mediaS += ms / 1000;
        if (performance.now() - shown > 1000) {
          shown = performance.now();
          progress();
        }
      };
      const onAnswer = (q: BenchQuestion, response: string | ProactiveResponse, details: Record<string, unknown>) => {
        pass.results.record(q, response, details);
        if (pass === passes[0]) {
          if (typeof response !== 'string') answerMs.push(...response.dialog_history.filter((d) => d.role === 'assistant' && d.cost > 0).map((d) => Math.round(d.cost * 1000)));
          else if (typeof details.wall_ms === 'number') answerMs.push(details.wall_ms);
        }
        done++;
        pass.done++;
        progress();
      };
      const groups = byVideo(pass.todo, media.videos);
      pass.videos = groups.length;
      let next = 0;
      const worker = async () => {
        while (next < groups.length && !o.signal?.aborted) {
          const group = groups[next++]!;
          try {
            if (o.mode === 'stream') await runStreamVideo({ file: group.file, engines: engines!, settings, questions: group.questions, prompts, audio: media.audio, proactive: pass.proactive ?? undefined, onAnswer, onMedia, signal: o.signal });
            else await runPrefixVideo({ file: group.file, questions: group.questions, prompts, answerer: answerer!, context: o.context, maxFrames: o.maxFrames, onAnswer, onMedia, signal: o.signal });
          } catch (error) {
            if (o.signal?.aborted) break;
            const message = error instanceof Error ? error.message : String(error);
            for (const q of group.questions.filter((q) => !hasResponse(q))) {
              pass.results.fail(q, message);
              pass.failures.push({ key: q.key, error: message });
            }
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(o.concurrency, groups.length) }, worker));
      } finally {
        pass.results.flush();
        pass.wallS = (performance.now() - passStarted) / 1000;
      }
    }
  } finally {
    await close?.();
  }
  const wallS = (performance.now() - started) / 1000;
  const [first] = passes as [Pass, ...Pass[]];
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    benchmark: 'StreamingBench',
    questions_file: file.path,
    kind: file.kind,
    mode: o.mode,
    context_s: o.mode === 'prefix' ? o.context : null,
    max_frames: o.mode === 'prefix' ? o.maxFrames : null,
    out: first.results.path,
    model_key: MODEL_KEY,
    reasoner,
    engines: described,
    questions: { selected: first.selected.length, answered_now: first.done, taken_over: first.selected.length - first.todo.length, failed: first.failures.length },
    failures: first.failures,
    scores: scoreQuestions(first.selected, file.kind),
    proactive: first.proactive ? passes.map((p) => summarizeProactive(p.proactive!, p.results.path, p.selected, { media_s: round1(p.mediaS), wall_s: round1(p.wallS) })) : null,
    throughput: { videos: passes.reduce((n, p) => n + (p.videos ?? 0), 0), media_s: round1(mediaS), wall_s: round1(wallS), x_real_time: wallS > 0 && mediaS > 0 ? Math.round((mediaS / wallS) * 100) / 100 : null, engine_load_s: round1(engineLoadS) },
    answer_ms: answerMs.length ? { p50: quantile(answerMs, 0.5), p95: quantile(answerMs, 0.95), max: Math.max(...answerMs) } : null,
    machine: describeMachine(loadAtStart),
  };
}
