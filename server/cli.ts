import os from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { SETTINGS, loadConfig, settingFlags, settingValues } from './config.ts';
import { createEngines } from './engines.ts';
import { OmniLiveServer } from './http/server.ts';
import { describeEngines } from './session/engines.ts';
import { MemoryStore } from '../memory/index.ts';
import { ApiKeyRing } from './access/index.ts';
import { ingestFile, type IngestQuestion } from './ingest/ingest.ts';
import { defaultInstructionFilterOptions } from './reasoning/index.ts';
import { formatMediaTime } from './reasoning/llm/media-clock.ts';
import { wireItemText, type ServerEvent } from './protocol/server-events.ts';
import { EVAL_USAGE, evalCommand } from './eval/streamingbench/index.ts';
import { createLogger, type Logger } from './logger.ts';

const USAGE = `Usage: omnilive <command> [options]

Commands:
  serve                 HTTP + WebSocket server (web app at /, Realtime API at /v1/realtime)
  ingest FILE           play a media file into a session as if live
      --speed 1|max       real time (default) or as fast as possible; same events
      --ask "SEC=TEXT"    type a question at that media time (repeatable)
      --jsonl             print every server event as one JSON line on stdout
      --memory-id ID      the memory to write to (default: a new one per run, printed)
  memory list           clips and utterances kept (--memory-id, --session, --from, --to, --limit)
  memory search TEXT    what a question would retrieve (--memory-id)
  memory export         every row as JSON lines on stdout (--memory-id)
  memory forget         delete rows: --memory-id ID | --session ID | --id ROW | --from/--to DATE | --all
  keys create --name N  make an API key (printed once; stored hashed in the data dir);
                        --user ID: the user its connections are unless they name one
  keys list             the keys: id, name, user, source, created, revoked
  keys revoke ID|NAME   the key stops working at once, on running servers too
${EVAL_USAGE}

Options (flags win over environment variables):
${SETTINGS.filter((s) => s[1])
  .map((s) => `  ${`${s[1]} VALUE`.padEnd(26)}${s[4]} [${s[2]}; default ${s[3] || 'none'}]`)
  .join('\n')}
  --help`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  // eval has its own flags (server/eval/streamingbench/cli.ts).
  if (argv[0] === 'eval') return evalCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...settingFlags(),
      speed: { type: 'string', default: '1' },
      ask: { type: 'string', multiple: true },
      jsonl: { type: 'boolean', default: false },
      'memory-id': { type: 'string' },
      session: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string', default: '20' },
      all: { type: 'boolean', default: false },
      name: { type: 'string' },
      id: { type: 'string', multiple: true },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig(settingValues(values));
  // The process's one logger: JSON lines on stderr. What a command prints for its user
  // (addresses, keys made, tables, transcripts) is its output, not a log line.
  const logger = createLogger({ level: config.logLevel });
  if (command === 'serve') return serve(config, logger);
  if (command === 'ingest') {
    if (rest.length !== 1) throw new TypeError('ingest takes exactly one FILE');
    return ingest(config, logger, rest[0]!, values.speed!, values.ask ?? [], values.jsonl!, values['memory-id']);
  }
  if (command === 'memory') return memoryCommand(config, rest, values);
  if (command === 'keys') return keysCommand(config, rest, values);
  throw new TypeError(`unknown command '${command}' (try --help)`);
}

async function serve(config: ReturnType<typeof loadConfig>, logger: Logger): Promise<number> {
  const engines = await createEngines(config, { logger });
  const server = new OmniLiveServer(config, engines, { logger });
  const { host, port, tls } = await server.listen();
  const shown = host.includes(':') ? `[${host}]` : host;
  console.log(`omnilive: listening on http://${shown}:${port}${tls ? ` and https://${shown}:${port}` : ''}`);
  console.log(`omnilive: Realtime API at ws${tls ? '(s)' : ''}://${shown}:${port}/v1/realtime`);
  if (server.tlsSource) console.log(`omnilive: TLS certificate ${server.tlsSource}`);
  describeAccess(server, config, shown, port, tls);
  console.log(`omnilive: engines ${JSON.stringify(describeEngines(engines))}`);
  const rtc = config.webrtc;
  if (server.media) console.log(`omnilive: WebRTC on ${rtc.announcedAddress ?? rtc.listenIp} ports ${rtc.ports.min}-${rtc.ports.max} (${server.media.workers.length} mediasoup workers)`);
  else console.log(`omnilive: WebRTC off: ${server.webrtcUnavailable}; browsers send media over the WebSocket`);
  if (!engines.reasoner.usesLanguageModel) console.log('omnilive: no language model configured (OMNILIVE_LLM_URL): answers come from transcript search');
  const signal = await stopSignal(logger);
  return shutdown(server, engines, config.shutdownTimeoutMs, signal, logger);
}

/** Share of the shutdown bound the sessions get to finish; the rest is for closing up. */
const DRAIN_SHARE = 0.7;

/**
 * Resolves at the first SIGTERM or SIGINT. A second one means "now": the process exits at once
 * with 128 + the signal's number (143, 130), as a shell reports a process the signal killed;
 * rows not yet flushed are lost then, as in a crash (README "Operations").
 */
function stopSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (!seen) {
        seen = true;
        return resolve(signal);
      }
      logger.warn({ signal }, `${signal} again: exiting at once`);
      process.exit(128 + os.constants.signals[signal]);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * The graceful stop, bounded by `timeoutMs`: new connections get 503; each session finishes
 * what it heard and its answer in flight (cancelled past its share of the bound), flushes
 * memory and closes its WebSocket with 1001 and a reason; then the listener, mediasoup's
 * workers, the memory (last flush) and the engines' child processes close. If any of it hangs,
 * the process exits 1 when the bound is reached.
 */
async function shutdown(server: OmniLiveServer, engines: { close(): Promise<void> }, timeoutMs: number, signal: NodeJS.Signals, logger: Logger): Promise<number> {
  const log = logger.child({ component: 'shutdown' });
  const started = performance.now();
  const watchdog = setTimeout(() => {
    log.error({ timeoutMs }, `the shutdown took longer than ${timeoutMs} ms; exiting now`);
    process.exit(1);
  }, timeoutMs);
  log.info({ signal, sessions: server.sessions.size, timeoutMs }, `${signal}: draining ${server.sessions.size} sessions, at most ${timeoutMs} ms`);
  try {
    const drained = await server.drain(Math.round(timeoutMs * DRAIN_SHARE));
    log.info({ ...drained, ms: Math.round(performance.now() - started) }, drained.finished ? 'sessions drained' : 'sessions drained; what was past the deadline was cancelled');
  } finally {
    await server.close();
    await engines.close();
    clearTimeout(watchdog);
  }
  log.info({ ms: Math.round(performance.now() - started) }, 'stopped');
  return 0;
}

/** Who may connect, said at start; a new admin key is shown this once (it is in the data dir, 0600). */
function describeAccess(server: OmniLiveServer, config: ReturnType<typeof loadConfig>, host: string, port: number, tls: boolean): void {
  const access = server.access;
  if (server.newAdminKey) {
    const page = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'THIS-HOST' : host}:${port}/#key=${server.newAdminKey}`;
    console.log(`omnilive: listening beyond loopback with no API key, so an admin key was made and kept in ${access.keys.adminKeyFile} (mode 0600).`);
    console.log(`omnilive: it is shown only now. Open the web app with it: ${page}`);
    console.log(`omnilive: or send it as 'Authorization: Bearer <key>'; make more with 'omnilive keys create --name NAME'`);
  } else if (access.keyless) {
    console.log('omnilive: access: no API key, loopback only: this machine\'s programs and this server\'s own page need no credential');
  } else {
    console.log(`omnilive: access: every connection needs an API key or a client secret (${access.keys.list().filter((k) => !k.revokedAt).length} keys)`);
  }
  if (config.access.allowedOrigins.length) console.log(`omnilive: pages of these origins may connect: ${config.access.allowedOrigins.join(', ')}`);
}

async function keysCommand(config: ReturnType<typeof loadConfig>, args: string[], values: Record<string, unknown>): Promise<number> {
  const [verb, target] = args;
  const ring = new ApiKeyRing(config.dataDir, config.access.apiKeys);
  switch (verb) {
    case 'create': {
      if (typeof values.name !== 'string') throw new TypeError('keys create needs --name NAME (what the key is for, e.g. my-site)');
      const { key, record } = ring.create(values.name, values.user as string | undefined);
      console.error(`omnilive: made key ${record.id} '${record.name}'${record.user ? ` for user ${record.user}` : ''}; it is shown only now and stored hashed:`);
      console.log(key);
      return 0;
    }
    case 'list': {
      for (const k of ring.list()) {
        console.log(JSON.stringify({ id: k.id, name: k.name, user: k.user ?? null, source: k.source, created: k.createdAt ? new Date(k.createdAt).toISOString() : null, revoked: k.revokedAt ? new Date(k.revokedAt).toISOString() : null }));
      }
      return 0;
    }
    case 'revoke': {
      if (!target) throw new TypeError('keys revoke needs the id or name of the key (see omnilive keys list)');
      const record = ring.revoke(target);
      console.error(`omnilive: revoked ${record.id} '${record.name}'`);
      return 0;
    }
    default:
      throw new TypeError(`keys takes create, list or revoke, got '${verb ?? ''}'`);
  }
}

function parseQuestion(spec: string): IngestQuestion {
  const m = /^\s*(\d+(?:\.\d+)?)\s*=(.+)$/s.exec(spec);
  if (!m) throw new TypeError(`--ask takes "SECONDS=question", got '${spec}'`);
  return { atMs: Number(m[1]) * 1000, text: m[2]!.trim() };
}

/** A date the user typed: ISO 8601, or epoch milliseconds. */
function parseDate(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new TypeError(`--${name} takes an ISO date or epoch ms, got '${value}'`);
  return ms;
}

async function memoryCommand(config: ReturnType<typeof loadConfig>, args: string[], values: Record<string, unknown>): Promise<number> {
  const [verb, ...words] = args;
  const store = await MemoryStore.open({ uri: config.memory.uri });
  try {
    const memoryId = values['memory-id'] as string | undefined;
    const fromWallMs = parseDate('from', values.from as string | undefined);
    const toWallMs = parseDate('to', values.to as string | undefined);
    switch (verb) {
      case 'list': {
        const selector = { memoryId, sessionId: values.session as string | undefined, fromWallMs, toWallMs, limit: Number(values.limit) };
        const [clips, utterances] = await Promise.all([store.list(selector), store.listUtterances(selector)]);
        const rows = [
          ...clips.map((c) => ({ kind: 'clip', id: c.id, memory_id: c.memoryId, session_id: c.sessionId, start_ms: c.startMs, end_ms: c.endMs, wall_start: new Date(c.wallStartMs).toISOString(), frames: c.frameCount, ocr_text: c.ocrText, objects: c.objects, transcript: c.transcript })),
          ...utterances.map((u) => ({ kind: 'utterance', id: u.id, memory_id: u.memoryId, session_id: u.sessionId, start_ms: u.startMs, end_ms: u.endMs, wall_start: new Date(u.wallStartMs).toISOString(), role: u.role, text: u.text })),
        ].sort((a, b) => a.wall_start.localeCompare(b.wall_start) || a.start_ms - b.start_ms);
        for (const r of rows) console.log(JSON.stringify(r));
        return 0;
      }
      case 'search': {
        if (!memoryId) throw new TypeError('memory search needs --memory-id (memories are private to their owner)');
        const text = words.join(' ');
        if (!text) throw new TypeError('memory search needs the text to search for');
        const hits = await store.search({ memoryId, text, nowMs: Number.MAX_SAFE_INTEGER, nowWallMs: Date.now(), limit: Number(values.limit) });
        for (const h of hits) console.log(`${formatMediaTime(h.startMs)}  ${h.kind.padEnd(9)} ${h.matchedBy.join('+').padEnd(12)} ${h.text}`);
        return 0;
      }
      case 'export': {
        for await (const row of store.export(memoryId)) process.stdout.write(`${JSON.stringify(row)}\n`);
        return 0;
      }
      case 'forget': {
        const all = values.all === true;
        const ids = values.id as string[] | undefined;
        if (!all && !memoryId && !values.session && !ids && fromWallMs === undefined && toWallMs === undefined) {
          throw new TypeError('memory forget needs --memory-id, --session, --id, --from/--to, or --all');
        }
        if (ids && !memoryId && !values.session && !all) throw new TypeError('memory forget --id needs the --memory-id it belongs to');
        const removed = await store.forget({ all, memoryId, sessionId: values.session as string | undefined, ids, fromWallMs, toWallMs });
        console.error(`omnilive: forgot ${JSON.stringify(removed)}`);
        return 0;
      }
      default:
        throw new TypeError(`memory takes list, search, export or forget, got '${verb ?? ''}'`);
    }
  } finally {
    await store.close();
  }
}

async function ingest(config: ReturnType<typeof loadConfig>, logger: Logger, file: string, speedFlag: string, asks: string[], jsonl: boolean, memoryId?: string): Promise<number> {
  if (speedFlag !== '1' && speedFlag !== 'max') throw new TypeError(`--speed takes 1 or max, got '${speedFlag}'`);
  const questions = asks.map(parseQuestion);
  const engines = await createEngines(config, { logger });
  const bar = process.stderr.isTTY || process.env.OMNILIVE_PROGRESS
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'ingest [{bar}] {percentage}% | {media} / {total} | {speed}× real time', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  const started = performance.now();
  let barStarted = false;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  // Rarely (about 1 run in 8 of a 20-minute file) the process ended with exit code 13, an
  // await left with no live handle, around a memory search; a native promise (LanceDB, in
  // the suspects) seems not to hold the event loop. Until that is found, hold it ourselves.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    const result = await ingestFile({
      file,
      engines,
      speed: speedFlag === 'max' ? 'max' : 1,
      questions,
      memoryId,
      settings: { voice: config.tts.voice, filter: { ...defaultInstructionFilterOptions, mode: config.instructionFilter, wakeWord: config.wakeWord } },
      signal: abort.signal,
      onEvent: (event) => (jsonl ? process.stdout.write(`${JSON.stringify(event)}\n`) : printEvent(event)),
      onProgress: (mediaMs, durationMs) => {
        if (!bar) return;
        const payload = { media: formatMediaTime(mediaMs), total: formatMediaTime(durationMs), speed: (mediaMs / (performance.now() - started)).toFixed(1) };
        if (!barStarted) {
          bar.start(Math.max(1, Math.round(durationMs / 1000)), 0, payload);
          barStarted = true;
        }
        bar.update(Math.round(mediaMs / 1000), payload);
      },
    });
    bar?.stop();
    process.stderr.write(`omnilive: ingested ${formatMediaTime(result.mediaMs)} of media in ${(result.wallMs / 1000).toFixed(1)} s (${(result.mediaMs / result.wallMs).toFixed(1)}× real time)${engines.memory ? `; memory id ${result.memoryId}` : ''}\n`);
    return 0;
  } finally {
    bar?.stop();
    await engines.close();
    clearInterval(keepAlive);
  }
}

/** Human-readable transcript of a session, for ingest without --jsonl. */
function printEvent(event: ServerEvent): void {
  const e = event as ServerEvent & Record<string, any>;
  switch (e.type) {
    case 'conversation.item.input_audio_transcription.completed':
      if (e.transcript) console.log(`you: ${e.transcript}`);
      break;
    case 'conversation.item.added':
      if (e.item.type === 'message' && e.item.role === 'user' && e.item.content[0]?.type === 'input_text') console.log(`you (typed): ${e.item.content[0].text}`);
      break;
    case 'response.done':
      if (e.response.status === 'completed') console.log(`assistant: ${e.response.output.map(wireItemText).join(' ')}`);
      else console.log(`assistant: (${e.response.status})`);
      break;
    case 'error':
      console.error(`error: ${e.error.code}: ${e.error.message}`);
      break;
  }
}
