import os from 'node:os';
import path from 'node:path';
import { defaultAccessLimits, normalizeOrigin, type AccessLimits } from './access/index.ts';
import { defaultConnectionLimits, type ConnectionLimits } from './protocol/realtime-connection.ts';
import { defaultSessionLimits, type SessionLimits } from './session/types.ts';
import { defaultWebRtcConfig, type WebRtcConfig } from './webrtc/media-server.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { defaultLlmTimeouts, type LlmTimeouts } from './reasoning/llm/failures.ts';

export interface RemoteEndpoint {
  /** OpenAI-compatible base URL, ending in /v1. */
  url?: string;
  model?: string;
  apiKey?: string;
}

export interface OmniLiveConfig {
  host: string;
  port: number;
  dataDir: string;
  /** The least severe log line written (JSON lines on stderr). */
  logLevel: LogLevel;
  /** 'auto': a self-signed certificate kept in the data dir, unless cert and key are given. */
  tls: { mode: 'auto' | 'off'; cert?: string; key?: string };
  limits: ConnectionLimits & SessionLimits;
  asr: RemoteEndpoint & { engine: 'pocketsphinx' | 'remote'; language?: string };
  llm: RemoteEndpoint & LlmTimeouts;
  tts: RemoteEndpoint & { engine: 'flite' | 'remote'; voice: string };
  instructionFilter: 'off' | 'rules' | 'llm';
  /** Only turns that say this word are answered (e.g. "omni"). */
  wakeWord?: string;
  vision: { enabled: boolean; fps: number; ocr: boolean; objects: boolean; people: boolean; modelsDir: string };
  /** Long-term memory: a LanceDB URI (a directory by default), or disabled. */
  memory: { enabled: boolean; uri: string; maxAgeMs?: number; maxBytes?: number; cacheBytes: number };
  /** Camera and mic from browsers over WebRTC (mediasoup SFU → ffmpeg → session). */
  webrtc: WebRtcConfig;
  /** Who may connect: API keys from the environment, allowed origins, limits (README "Access"). */
  access: { apiKeys: string[]; allowedOrigins: string[]; agentsFile?: string; limits: AccessLimits };
  /** SIGTERM/SIGINT: the most a graceful stop takes before the process exits anyway. */
  shutdownTimeoutMs: number;
}

/** Every setting, its flag, its environment variable and its default: the README table is this. */
export const SETTINGS = [
  ['host', '--host', 'OMNILIVE_HOST', '127.0.0.1', 'address to listen on'],
  ['port', '--port', 'OMNILIVE_PORT', '8787', 'port for HTTP, HTTPS and WebSocket (one port)'],
  ['dataDir', '--data', 'OMNILIVE_DATA', '~/.omnilive/data', 'data directory (certificate, memory)'],
  ['logLevel', '--log-level', 'OMNILIVE_LOG_LEVEL', 'info', `log lines kept (JSON on stderr; never a key or secret): ${LOG_LEVELS.join(', ')}`],
  ['tls.mode', '--tls', 'OMNILIVE_TLS', 'auto', "'auto': also serve https/wss with a self-signed certificate; 'off': plain http/ws only"],
  ['tls.cert', '--tls-cert', 'OMNILIVE_TLS_CERT', '', 'PEM certificate file (with --tls-key) instead of the self-signed one'],
  ['tls.key', '--tls-key', 'OMNILIVE_TLS_KEY', '', 'PEM private key file'],
  ['llm.url', '--llm-url', 'OMNILIVE_LLM_URL', '', 'OpenAI-compatible base URL of the reasoning LLM; empty: embedded transcript answerer'],
  ['llm.model', '--llm-model', 'OMNILIVE_LLM_MODEL', '', 'model name sent to the LLM server'],
  ['llm.apiKey', '', 'OMNILIVE_LLM_API_KEY', '', 'API key for the LLM server (environment only, never logged)'],
  ['llm.firstTokenTimeoutMs', '--llm-first-token-timeout-ms', 'OMNILIVE_LLM_FIRST_TOKEN_TIMEOUT_MS', String(defaultLlmTimeouts.firstTokenTimeoutMs), "longest wait for the LLM's first token (connecting included, one retry included); then the assistant apologizes"],
  ['llm.idleTimeoutMs', '--llm-idle-timeout-ms', 'OMNILIVE_LLM_IDLE_TIMEOUT_MS', String(defaultLlmTimeouts.idleTimeoutMs), 'longest silence inside a streaming LLM answer before it counts as stalled'],
  ['asr.engine', '--asr', 'OMNILIVE_ASR', 'pocketsphinx', "'pocketsphinx' (embedded) or 'remote'"],
  ['asr.url', '--asr-url', 'OMNILIVE_ASR_URL', '', 'OpenAI-compatible base URL for /audio/transcriptions'],
  ['asr.model', '--asr-model', 'OMNILIVE_ASR_MODEL', 'whisper-1', 'transcription model name'],
  ['asr.apiKey', '', 'OMNILIVE_ASR_API_KEY', '', 'API key for the ASR server (environment only)'],
  ['tts.engine', '--tts', 'OMNILIVE_TTS', 'flite', "'flite' (embedded) or 'remote'"],
  ['tts.voice', '--voice', 'OMNILIVE_TTS_VOICE', 'slt', 'default voice (Flite: slt, awb, rms, kal, kal16)'],
  ['tts.url', '--tts-url', 'OMNILIVE_TTS_URL', '', 'OpenAI-compatible base URL for /audio/speech'],
  ['tts.model', '--tts-model', 'OMNILIVE_TTS_MODEL', 'tts-1', 'speech model name'],
  ['tts.apiKey', '', 'OMNILIVE_TTS_API_KEY', '', 'API key for the TTS server (environment only)'],
  ['instructionFilter', '--instruction-filter', 'OMNILIVE_INSTRUCTION_FILTER', 'rules', "'off', 'rules' (drop fillers and fragments) or 'llm' (rules, then ask the LLM)"],
  ['wakeWord', '--wake-word', 'OMNILIVE_WAKE_WORD', '', 'answer only turns that say this word (talk not addressed to the assistant is ignored)'],
  ['vision.enabled', '--vision', 'OMNILIVE_VISION', 'on', "'on': see (video frames → clips → OCR, objects, embeddings); 'off': audio only"],
  ['vision.fps', '--video-fps', 'OMNILIVE_VIDEO_FPS', '1', 'video frames kept per second (0.1 to 5)'],
  ['vision.facts', '--frame-facts', 'OMNILIVE_FRAME_FACTS', 'ocr,objects,people', 'what keyframes are read for: any of ocr, objects, people (pose, facing, gestures, expression of each person found; needs objects); colours, positions and light always come with objects; an embedding model in the models dir is used when present'],
  ['vision.modelsDir', '--models', 'OMNILIVE_MODELS', '~/.omnilive/models', 'models directory (CLIP/SigLIP vision ONNX, …)'],
  ['memory.enabled', '--memory', 'OMNILIVE_MEMORY', 'on', "'on': keep clips and utterances in LanceDB; 'off': nothing outlives a session"],
  ['memory.uri', '--memory-uri', 'OMNILIVE_MEMORY_URI', '', 'LanceDB URI for long-term memory (s3://…, db://…); default: <data>/memory'],
  ['memory.maxAgeDays', '--memory-max-age-days', 'OMNILIVE_MEMORY_MAX_AGE_DAYS', '', 'forget memory older than this many days (background)'],
  ['memory.maxMb', '--memory-max-mb', 'OMNILIVE_MEMORY_MAX_MB', '', 'keep memory under this many MB, oldest first (local directories)'],
  ['memory.cacheMb', '--memory-cache-mb', 'OMNILIVE_MEMORY_CACHE_MB', '96', "RAM for LanceDB's caches: two thirds index pages, one third metadata"],
  ['webrtc.enabled', '--webrtc', 'OMNILIVE_WEBRTC', 'on', "'on': browsers send camera and mic over WebRTC (mediasoup); 'off': media over the WebSocket only"],
  ['webrtc.workers', '--rtc-workers', 'OMNILIVE_RTC_WORKERS', '', 'mediasoup worker processes (default: one per core)'],
  ['webrtc.listenIp', '--rtc-listen-ip', 'OMNILIVE_RTC_LISTEN_IP', defaultWebRtcConfig.listenIp, 'address the WebRTC transports listen on (0.0.0.0 for other machines)'],
  ['webrtc.announcedAddress', '--rtc-announced-address', 'OMNILIVE_RTC_ANNOUNCED_ADDRESS', '', 'address browsers are told to send to, when it differs (NAT, container)'],
  ['webrtc.ports', '--rtc-ports', 'OMNILIVE_RTC_PORTS', `${defaultWebRtcConfig.ports.min}-${defaultWebRtcConfig.ports.max}`, 'UDP/TCP port range of the WebRTC transports'],
  ['webrtc.decodePorts', '--rtc-decode-ports', 'OMNILIVE_RTC_DECODE_PORTS', `${defaultWebRtcConfig.decodePorts.min}-${defaultWebRtcConfig.decodePorts.max}`, 'loopback UDP port range for RTP to the ffmpeg decoders'],
  ['access.apiKeys', '', 'OMNILIVE_API_KEY', '', 'API keys, comma-separated (environment only, never logged); with any key, every connection needs a credential'],
  ['access.allowedOrigins', '--allowed-origins', 'OMNILIVE_ALLOWED_ORIGINS', '', 'web pages of other origins allowed to connect, comma-separated, exact (https://example.com)'],
  ['access.agentsFile', '--agents', 'OMNILIVE_AGENTS', '', 'JSON file of named agents for sites without a backend (pinned session config, origins, limits)'],
  ['access.sessionsPerUser', '--max-sessions-per-user', 'OMNILIVE_MAX_SESSIONS_PER_USER', String(defaultAccessLimits.sessionsPerUser), 'live sessions at once per user'],
  ['access.sessionsPerKey', '--max-sessions-per-key', 'OMNILIVE_MAX_SESSIONS_PER_KEY', String(defaultAccessLimits.sessionsPerKey), 'live sessions at once per API key (its client secrets included)'],
  ['access.mintsPerKeyPerMinute', '--mints-per-minute', 'OMNILIVE_MINTS_PER_MINUTE', String(defaultAccessLimits.mintsPerKeyPerMinute), 'client secrets per API key per minute'],
  ['access.connectionsPerIpPerMinute', '--connections-per-minute', 'OMNILIVE_CONNECTIONS_PER_MINUTE', String(defaultAccessLimits.connectionsPerIpPerMinute), 'WebSocket connections per client address per minute'],
  ['access.secretSessionSeconds', '--secret-session-seconds', 'OMNILIVE_SECRET_SESSION_SECONDS', String(defaultAccessLimits.secretSessionSeconds), 'session length of a client secret that does not set omnilive.max_session_seconds'],
  ['limits.maxMessageBytes', '--max-message-bytes', 'OMNILIVE_MAX_MESSAGE_BYTES', String(defaultConnectionLimits.maxMessageBytes), 'largest client message'],
  ['limits.maxMessagesPerSecond', '', 'OMNILIVE_MAX_MESSAGES_PER_SECOND', String(defaultConnectionLimits.maxMessagesPerSecond), 'client messages per second per connection'],
  ['limits.maxAudioLeadMs', '', 'OMNILIVE_MAX_AUDIO_LEAD_MS', String(defaultSessionLimits.maxAudioLeadMs), 'how far live audio may run ahead of real time'],
  ['limits.sendBufferSoftBytes', '', 'OMNILIVE_SEND_BUFFER_SOFT_BYTES', String(defaultConnectionLimits.sendBufferSoftBytes), 'bytes waiting for a slow client past which its metrics and clip pictures are dropped'],
  ['limits.sendBufferMaxBytes', '', 'OMNILIVE_SEND_BUFFER_MAX_BYTES', String(defaultConnectionLimits.sendBufferMaxBytes), 'bytes waiting for a slow client past which it is disconnected (1008)'],
  ['shutdownTimeoutMs', '--shutdown-timeout-ms', 'OMNILIVE_SHUTDOWN_TIMEOUT_MS', '10000', 'SIGTERM/SIGINT: answers in flight get most of this to finish, then the process exits; a second signal exits at once'],
] as const;

export type SettingKey = (typeof SETTINGS)[number][0];
export type SettingValues = Partial<Record<SettingKey, string>>;

/** parseArgs options for every setting that has a flag. */
export function settingFlags(): Record<string, { type: 'string' }> {
  return Object.fromEntries(SETTINGS.filter((s) => s[1]).map((s) => [s[1].slice(2), { type: 'string' as const }]));
}

/** The settings given as flags (parseArgs values), by setting key. */
export function settingValues(values: Record<string, unknown>): SettingValues {
  const out: SettingValues = {};
  for (const [key, flag] of SETTINGS) if (flag && typeof values[flag.slice(2)] === 'string') out[key] = values[flag.slice(2)] as string;
  return out;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new TypeError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

function number(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new TypeError(`${name} must be a number from ${min} to ${max}, got '${value}'`);
  return n;
}

function portRange(name: string, value: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(value.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || max - min < 1) throw new TypeError(`${name} must be a range like 40000-49999 within 1024-65535, got '${value}'`);
  return { min, max };
}

function facts(value: string): { ocr: boolean; objects: boolean; people: boolean } {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) oneOf('frame facts', n, ['ocr', 'objects', 'people']);
  if (names.includes('people') && !names.includes('objects')) throw new TypeError("frame facts 'people' needs 'objects' (people are described where objects found a person)");
  return { ocr: names.includes('ocr'), objects: names.includes('objects'), people: names.includes('people') };
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new TypeError(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(flags: SettingValues = {}, env: NodeJS.ProcessEnv = process.env): OmniLiveConfig {
  const get = (key: SettingKey): string => {
    const row = SETTINGS.find((s) => s[0] === key)!;
    return flags[key] ?? env[row[2]] ?? row[3];
  };
  const optional = (key: SettingKey) => get(key) || undefined;
  const dataDir = path.resolve(expandHome(get('dataDir')));
  const config: OmniLiveConfig = {
    host: get('host'),
    port: integer('port', get('port'), 0, 65535),
    dataDir,
    logLevel: oneOf('log level', get('logLevel'), LOG_LEVELS),
    tls: { mode: oneOf('tls', get('tls.mode'), ['auto', 'off']), cert: optional('tls.cert'), key: optional('tls.key') },
    limits: {
      maxMessageBytes: integer('max message bytes', get('limits.maxMessageBytes'), 1024, 64 * 1024 * 1024),
      maxMessagesPerSecond: integer('max messages per second', get('limits.maxMessagesPerSecond'), 1, 100_000),
      maxAudioLeadMs: integer('max audio lead ms', get('limits.maxAudioLeadMs'), 100, 3_600_000),
      sendBufferSoftBytes: integer('send buffer soft bytes', get('limits.sendBufferSoftBytes'), 1024, 1024 ** 3),
      sendBufferMaxBytes: integer('send buffer max bytes', get('limits.sendBufferMaxBytes'), 64 * 1024, 1024 ** 3),
      outputAudioLeadMs: defaultSessionLimits.outputAudioLeadMs,
    },
    asr: { engine: oneOf('asr', get('asr.engine'), ['pocketsphinx', 'remote']), url: optional('asr.url'), model: optional('asr.model'), apiKey: optional('asr.apiKey') },
    llm: {
      url: optional('llm.url'),
      model: optional('llm.model'),
      apiKey: optional('llm.apiKey'),
      firstTokenTimeoutMs: integer('llm first token timeout ms', get('llm.firstTokenTimeoutMs'), 100, 600_000),
      idleTimeoutMs: integer('llm idle timeout ms', get('llm.idleTimeoutMs'), 100, 600_000),
    },
    tts: { engine: oneOf('tts', get('tts.engine'), ['flite', 'remote']), voice: get('tts.voice'), url: optional('tts.url'), model: optional('tts.model'), apiKey: optional('tts.apiKey') },
    instructionFilter: oneOf('instruction filter', get('instructionFilter'), ['off', 'rules', 'llm']),
    wakeWord: optional('wakeWord'),
    vision: {
      enabled: oneOf('vision', get('vision.enabled'), ['on', 'off']) === 'on',
      fps: number('video fps', get('vision.fps'), 0.1, 5),
      ...facts(get('vision.facts')),
      modelsDir: path.resolve(expandHome(get('vision.modelsDir'))),
    },
    memory: {
      enabled: oneOf('memory', get('memory.enabled'), ['on', 'off']) === 'on',
      uri: get('memory.uri') || path.join(dataDir, 'memory'),
      maxAgeMs: optional('memory.maxAgeDays') ? number('memory max age days', get('memory.maxAgeDays'), 0.001, 36500) * 86_400_000 : undefined,
      maxBytes: optional('memory.maxMb') ? number('memory max MB', get('memory.maxMb'), 1, 1e9) * 1024 * 1024 : undefined,
      cacheBytes: Math.round(number('memory cache MB', get('memory.cacheMb'), 1, 1e6) * 1024 * 1024),
    },
    webrtc: {
      enabled: oneOf('webrtc', get('webrtc.enabled'), ['on', 'off']) === 'on',
      workers: optional('webrtc.workers') ? integer('rtc workers', get('webrtc.workers'), 1, 256) : defaultWebRtcConfig.workers,
      listenIp: get('webrtc.listenIp'),
      announcedAddress: optional('webrtc.announcedAddress'),
      ports: portRange('rtc ports', get('webrtc.ports')),
      decodePorts: portRange('rtc decode ports', get('webrtc.decodePorts')),
    },
    access: {
      apiKeys: list(get('access.apiKeys')),
      allowedOrigins: list(get('access.allowedOrigins')),
      agentsFile: optional('access.agentsFile') ? path.resolve(expandHome(get('access.agentsFile'))) : undefined,
      limits: {
        sessionsPerUser: integer('max sessions per user', get('access.sessionsPerUser'), 1, 100_000),
        sessionsPerKey: integer('max sessions per key', get('access.sessionsPerKey'), 1, 1_000_000),
        mintsPerKeyPerMinute: integer('mints per minute', get('access.mintsPerKeyPerMinute'), 1, 1_000_000),
        connectionsPerIpPerMinute: integer('connections per minute', get('access.connectionsPerIpPerMinute'), 1, 1_000_000),
        secretSessionSeconds: integer('secret session seconds', get('access.secretSessionSeconds'), 1, 86_400),
      },
    },
    shutdownTimeoutMs: integer('shutdown timeout ms', get('shutdownTimeoutMs'), 500, 3_600_000),
  };
  for (const origin of config.access.allowedOrigins) {
    if (!normalizeOrigin(origin)) throw new TypeError(`--allowed-origins takes exact origins like https://example.com, got '${origin}'`);
  }
  if (!!config.tls.cert !== !!config.tls.key) throw new TypeError('--tls-cert and --tls-key go together');
  if (config.limits.sendBufferSoftBytes >= config.limits.sendBufferMaxBytes) throw new TypeError('the send buffer soft limit must be below its max (OMNILIVE_SEND_BUFFER_SOFT_BYTES < OMNILIVE_SEND_BUFFER_MAX_BYTES)');
  if (config.asr.engine === 'remote' && !config.asr.url) throw new TypeError('--asr remote needs --asr-url (or OMNILIVE_ASR_URL)');
  if (config.tts.engine === 'remote' && !config.tts.url) throw new TypeError('--tts remote needs --tts-url (or OMNILIVE_TTS_URL)');
  if (config.llm.url && !config.llm.model) throw new TypeError('--llm-url needs --llm-model (or OMNILIVE_LLM_MODEL)');
  return config;
}
