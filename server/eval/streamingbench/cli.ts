/**
 * `omnilive eval streamingbench --questions FILE --videos DIR [--mode prefix|stream]
 *  [--context SECONDS] [--frames N] [--proactive watch|poll|poll,watch] [--limit N] [--concurrency N] [--out results.json]`
 * Prints one JSON document and the score table on stdout; progress goes to stderr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig, settingFlags, settingValues } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { runStreamingBench, type EvalMode, type StreamingBenchReport } from './run.ts';
import { formatProactiveTable, parseProactiveModes } from './proactive.ts';
import { formatScoreTable } from './scoring.ts';

export const EVAL_USAGE = `  eval streamingbench   run the system over StreamingBench videos, score like the official count.py
      --questions FILE    an official questions_*.json (real, omni, sqa, proactive, *_stream)
      --videos DIR        where video_path and audio_path lead (the official data directory)
      --mode stream|prefix  stream: the live session, memory and all (default); prefix: the
                          official evaluation, frames of [t - C, t) and the official prompt
      --context C         prefix seconds before each question; -1: from the start [default 60]
      --frames N          prefix: most frames shown, sampled uniformly [default 64]
      --proactive M       stream, proactive questions: watch (a watch made at the question's
                          time), poll (asked once a second, the official loop) or poll,watch
                          (both, compared; results in <out>.poll.json, <out>.watch.json) [default watch]
      --limit N           only the first N questions
      --concurrency N     videos at once [default 1]
      --out FILE          results (resumable; count.py reads it with --model OmniLive)`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new TypeError(`--${name} takes a whole number, got '${value}'`);
  return n;
}

/** The table a person reads: scores, then who produced them and how fast. */
export function formatReport(report: StreamingBenchReport): string {
  const proactive = report.proactive ? `; proactive questions by ${report.proactive.map((p) => p.mode).join(' and ')}${report.proactive.length > 1 ? `, scores below by ${report.proactive[0]!.mode}` : ''}` : '';
  const how = report.mode === 'stream' ? `stream (the live session, memory included${proactive})` : `prefix (${report.context_s! > 0 ? `${report.context_s} s before each question` : 'from the start'}, at most ${report.max_frames} frames)`;
  const t = report.throughput;
  const engines = Object.entries(report.engines)
    .filter(([k]) => k !== 'reasoner' && k !== 'language_model' && k !== 'notice')
    .map(([k, v]) => `${k}=${v ?? 'none'}`)
    .join(' ');
  return [
    `StreamingBench ${path.basename(report.questions_file)} · ${report.kind} · mode ${how}`,
    formatScoreTable(report.scores),
    ...(report.proactive ? [formatProactiveTable(report.proactive)] : []),
    `reasoner: ${report.reasoner.name}${report.reasoner.language_model ? '' : ' (NO language model)'} — ${report.reasoner.method}`,
    `engines: ${engines}`,
    `questions: ${report.questions.selected} selected, ${report.questions.answered_now} answered now, ${report.questions.taken_over} taken over from ${report.out}, ${report.questions.failed} failed`,
    `throughput: ${t.media_s} s of video in ${t.wall_s} s over ${t.videos} video${t.videos === 1 ? '' : 's'} = ${t.x_real_time ?? '–'}× real time (engines loaded in ${t.engine_load_s} s)`,
    ...(report.answer_ms ? [`answer time per question: p50 ${report.answer_ms.p50} ms, p95 ${report.answer_ms.p95} ms, max ${report.answer_ms.max} ms`] : []),
  ].join('\n');
}

/** `--context -1` as the official scripts write it: parseArgs would take -1 for a flag. */
function negativeValues(argv: string[]): string[] {
  return argv.flatMap((arg, i) => (arg === '--context' && /^-\d+$/.test(argv[i + 1] ?? '') ? [] : /^-\d+$/.test(arg) && argv[i - 1] === '--context' ? [`--context=${arg}`] : [arg]));
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: negativeValues(argv),
    allowPositionals: true,
    options: {
      ...settingFlags(),
      questions: { type: 'string' },
      videos: { type: 'string' },
      mode: { type: 'string', default: 'stream' },
      context: { type: 'string', default: '60' },
      frames: { type: 'string', default: '64' },
      proactive: { type: 'string' },
      limit: { type: 'string' },
      concurrency: { type: 'string', default: '1' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`Usage: omnilive eval streamingbench [options]\n${EVAL_USAGE}`);
    return 0;
  }
  if (positionals[0] !== 'streamingbench' || positionals.length !== 1) throw new TypeError(`eval takes one benchmark: streamingbench (got '${positionals.join(' ')}')`);
  if (!values.questions) throw new TypeError('eval streamingbench needs --questions FILE (an official questions_*.json)');
  if (!values.videos) throw new TypeError('eval streamingbench needs --videos DIR (the directory video_path is relative to)');
  const mode = values.mode as EvalMode;
  if (mode !== 'prefix' && mode !== 'stream') throw new TypeError(`--mode takes prefix or stream, got '${values.mode}'`);
  const limit = integer('limit', values.limit);
  if (limit !== undefined && limit < 1) throw new TypeError(`--limit takes a positive number, got '${values.limit}'`);
  const proactive = values.proactive === undefined ? undefined : parseProactiveModes(values.proactive);
  const out = values.out ?? `${path.basename(values.questions, '.json')}.${mode}.omnilive.json`;

  // Benchmark sessions would otherwise pile up in the user's own memory: a scratch LanceDB
  // directory unless a memory URI is given.
  const settings = settingValues(values);
  let scratch: string | undefined;
  if (!settings['memory.uri'] && !process.env.OMNILIVE_MEMORY_URI) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-eval-'));
    settings['memory.uri'] = path.join(scratch, 'memory');
  }
  const config = loadConfig(settings);
  const bar = process.stderr.isTTY || process.env.OMNILIVE_PROGRESS
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'streamingbench [{bar}] {value}/{total} questions | {media} s of video | {speed}× real time | {eta_formatted} left', hideCursor: true, etaBuffer: 20, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 5000 }, cliProgress.Presets.shades_classic)
    : undefined;
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  // Same guard as ingest: hold the event loop while native promises (LanceDB, onnxruntime) are pending.
  const keepAlive = setInterval(() => {}, 60_000);
  let barStarted = false;
  try {
    const report = await runStreamingBench({
      questionsFile: values.questions,
      videosDir: values.videos,
      mode,
      context: integer('context', values.context)!,
      maxFrames: integer('frames', values.frames)!,
      proactive,
      limit,
      concurrency: integer('concurrency', values.concurrency)!,
      out,
      config,
      logger: createLogger({ level: config.logLevel }),
      signal: abort.signal,
      onProgress: ({ done, total, mediaS, wallS }) => {
        if (!bar) return;
        const payload = { media: Math.round(mediaS), speed: wallS > 0 ? (mediaS / wallS).toFixed(1) : '–' };
        if (!barStarted) {
          bar.start(total, done, payload);
          barStarted = true;
        } else bar.update(done, payload);
      },
    });
    bar?.stop();
    console.log(JSON.stringify(report, null, 2));
    console.log(formatReport(report));
    if (abort.signal.aborted) console.error(`omnilive: interrupted; the answers so far are in ${report.out} (run again to continue)`);
    return report.questions.failed || abort.signal.aborted ? 1 : 0;
  } finally {
    bar?.stop();
    clearInterval(keepAlive);
    process.off('SIGINT', stop);
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}
