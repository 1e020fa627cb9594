import pino from 'pino';

/**
 * The one logger type of OmniLive: pino's, so every component logs structured lines
 * (`log.info({ session }, 'opened')`) and a child carries its context (`log.child({ component })`).
 * Components take it as an option and fall back to `silentLogger`; only the CLI makes a real one.
 */
export type Logger = pino.Logger;

/** Most severe first; a logger at one level writes it and those above it. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach a log line, wherever they appear. */
const REDACT = ['key', 'apiKey', 'api_key', 'secret', 'token', 'authorization', 'headers.authorization', 'req.headers.authorization', '*.key', '*.apiKey', '*.secret', '*.token'];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go. @defaultValue stderr, so stdout stays the CLI's own output */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { name: 'omnilive', level: options.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** For components built without a logger (tests, library use): drops everything. */
export const silentLogger: Logger = pino({ level: 'silent' });
