import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, silentLogger, type LogLevel, type Logger } from '../../server/logger.ts';
import { TypedEmitter } from '../../server/events/typed-emitter.ts';

/** A logger whose lines are kept, parsed, instead of going to stderr. */
function capture(level: LogLevel = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger: structured lines that never hold a secret', () => {
  it('redacts key, secret and token fields, at the top level and one level down, in the root logger and its children', () => {
    const { logger, lines, records } = capture();
    const secrets = ['olk_key_top_0123456789', 'sk-api-key-0123456789', 'shh-secret-0123456789', 'tok-0123456789', 'Bearer olk_header_0123456789', 'olk_nested_key_0123456789', 'nested-secret-0123456789'];
    logger.info({ key: secrets[0], apiKey: secrets[1], secret: secrets[2], token: secrets[3], headers: { authorization: secrets[4] } }, 'minted');
    logger.child({ component: 'api' }).warn({ grant: { key: secrets[5], secret: secrets[6], user: 'alice' } }, 'refused');
    assert.equal(lines.length, 2);
    for (const secret of secrets) assert.ok(!lines.some((l) => l.includes(secret)), `a secret reached the log: ${lines.join('\n')}`);
    const [minted, refused] = records();
    assert.equal(minted!.key, '[redacted]');
    assert.equal(minted!.msg, 'minted');
    assert.equal(refused!.component, 'api');
    assert.deepEqual(refused!.grant, { key: '[redacted]', secret: '[redacted]', user: 'alice' });
  });

  it('keeps lines below its level out', () => {
    const { logger, lines } = capture('warn');
    logger.info('not kept');
    logger.warn('kept');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"msg":"kept"/);
  });
});

class Probe extends TypedEmitter<{ ping: []; listenererror: [string, unknown] }> {
  constructor(logger?: Logger) {
    super();
    this.logger = logger;
  }
}

describe('TypedEmitter.safeEmit: a throwing listener', () => {
  it('is logged on the owner’s logger when nobody listens to listenererror, and the emit does not throw', () => {
    const { logger, records } = capture();
    const probe = new Probe(logger);
    probe.on('ping', () => {
      throw new Error('listener broke');
    });
    assert.doesNotThrow(() => probe.safeEmit('ping'));
    const [line] = records();
    assert.equal(line!.event, 'ping');
    assert.match(String(line!.msg), /listener for 'ping' threw/);
    assert.match(JSON.stringify(line!.err), /listener broke/);
  });

  it('goes to listenererror when someone listens, not to the log', () => {
    const { logger, lines } = capture();
    const probe = new Probe(logger);
    const seen: unknown[] = [];
    probe.on('listenererror', (event, error) => seen.push(event, (error as Error).message));
    probe.on('ping', () => {
      throw new Error('listener broke');
    });
    probe.safeEmit('ping');
    assert.deepEqual(seen, ['ping', 'listener broke']);
    assert.equal(lines.length, 0);
  });

  it('with no logger given, still reaches stderr', () => {
    const emitter = path.resolve(import.meta.dirname, '../../server/events/typed-emitter.ts');
    const script = `const { TypedEmitter } = await import(${JSON.stringify(emitter)}); const e = new TypedEmitter(); e.on('ping', () => { throw new Error('unowned'); }); e.safeEmit('ping');`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /listener for 'ping' threw/);
    assert.match(run.stderr, /unowned/);
  });

  it('with the silent logger given explicitly, stays silent', () => {
    const probe = new Probe(silentLogger);
    probe.on('ping', () => {
      throw new Error('quiet');
    });
    assert.doesNotThrow(() => probe.safeEmit('ping'));
  });
});
