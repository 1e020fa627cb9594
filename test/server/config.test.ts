import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../server/config.ts';

test('defaults: loopback, port 8787, TLS auto, embedded engines', () => {
  const c = loadConfig({}, {});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8787);
  assert.equal(c.dataDir, path.join(os.homedir(), '.omnilive', 'data'));
  assert.equal(c.tls.mode, 'auto');
  assert.equal(c.asr.engine, 'pocketsphinx');
  assert.equal(c.tts.engine, 'flite');
  assert.equal(c.llm.url, undefined);
  assert.equal(c.limits.maxMessageBytes, 1024 * 1024);
});

test('flags win over OMNILIVE_* variables, which win over defaults', () => {
  const env = { OMNILIVE_PORT: '9000', OMNILIVE_HOST: '0.0.0.0', OMNILIVE_LLM_URL: 'http://llm:8000/v1', OMNILIVE_LLM_MODEL: 'qwen', OMNILIVE_LLM_API_KEY: 'sk-secret' };
  const c = loadConfig({ port: '9100', wakeWord: 'omni' }, env);
  assert.equal(c.wakeWord, 'omni');
  assert.equal(c.port, 9100);
  assert.equal(c.host, '0.0.0.0');
  assert.deepEqual(c.llm, { url: 'http://llm:8000/v1', model: 'qwen', apiKey: 'sk-secret', firstTokenTimeoutMs: 15_000, idleTimeoutMs: 10_000 });
});

test('bad values are clear errors', () => {
  assert.throws(() => loadConfig({ port: 'http' }, {}), /port must be an integer/);
  assert.throws(() => loadConfig({ 'asr.engine': 'whisper' }, {}), /asr must be one of pocketsphinx, remote/);
  assert.throws(() => loadConfig({ 'tls.cert': '/x.pem' }, {}), /go together/);
  assert.throws(() => loadConfig({ 'llm.url': 'http://x/v1' }, {}), /needs --llm-model/);
  assert.throws(() => loadConfig({ 'tts.engine': 'remote' }, {}), /needs --tts-url/);
});

test('WebRTC: on by default on loopback; port ranges are checked', () => {
  const c = loadConfig({}, {});
  assert.equal(c.webrtc.enabled, true);
  assert.equal(c.webrtc.listenIp, '127.0.0.1');
  assert.deepEqual(c.webrtc.ports, { min: 40000, max: 49999 });
  const custom = loadConfig({ 'webrtc.ports': '20000-20100', 'webrtc.workers': '3', 'webrtc.announcedAddress': 'rtc.example.org' }, { OMNILIVE_WEBRTC: 'off' });
  assert.equal(custom.webrtc.enabled, false);
  assert.deepEqual(custom.webrtc.ports, { min: 20000, max: 20100 });
  assert.equal(custom.webrtc.workers, 3);
  assert.equal(custom.webrtc.announcedAddress, 'rtc.example.org');
  assert.throws(() => loadConfig({ 'webrtc.ports': '40000' }, {}), /rtc ports must be a range like 40000-49999/);
  assert.throws(() => loadConfig({ 'webrtc.decodePorts': '80-90' }, {}), /within 1024-65535/);
  assert.throws(() => loadConfig({ 'webrtc.workers': '0' }, {}), /rtc workers must be an integer/);
});
