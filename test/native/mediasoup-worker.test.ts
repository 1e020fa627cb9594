// The mediasoup worker that `npm install` put in place (native/mediasoup-worker.mjs), tested
// the way it fails in real use: Chromium sends a fake microphone and camera over a real
// WebRTC send transport, so the worker has to finish a DTLS handshake and decrypt SRTP.
// (createWorker() alone succeeds even with a worker that crashes at the first handshake.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

// Runs in the page: a mediasoup-client send transport with the fake capture devices'
// audio and video; `signal` is the test's exposed function (our signalling channel).
const PAGE_SCRIPT = `
import { Device } from 'mediasoup-client';
window.sendFakeMedia = async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: await window.signal('rtpCapabilities') });
  const transport = device.createSendTransport(await window.signal('createTransport'));
  transport.on('connect', ({ dtlsParameters }, ok, fail) => {
    window.signal('connect', { dtlsParameters }).then(ok, fail);
  });
  transport.on('produce', ({ kind, rtpParameters }, ok, fail) => {
    window.signal('produce', { kind, rtpParameters }).then(ok, fail);
  });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  const kinds = [];
  for (const track of stream.getTracks()) kinds.push((await transport.produce({ track })).kind);
  return kinds;
};
`;

/** Resolves when `check` returns true (polled), rejects with `what` after `ms`. */
async function waitFor(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const noChromium = !fs.existsSync(CHROMIUM);
if (noChromium && process.getuid?.() === 0) {
  // As root we could have installed it: a missing browser is a setup error, not a skip.
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
}

test(
  'mediasoup worker: DTLS handshake and SRTP from Chromium (opus + VP8, UDP and TCP listening)',
  { skip: noChromium && `${CHROMIUM} is missing (as root: apt-get install -y chromium)`, timeout: 30_000 },
  async (t) => {
    const bin = process.env.MEDIASOUP_WORKER_BIN || mediasoup.workerBin;
    assert.ok(fs.existsSync(bin), `no mediasoup worker at ${bin}: run node native/mediasoup-worker.mjs`);

    const bundle = await build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      logLevel: 'error',
    });
    const html = '<!doctype html><meta charset="utf-8"><title>mediasoup worker test</title><script src="/page.js"></script>';
    const server = http.createServer((req, res) => {
      const js = req.url === '/page.js';
      res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
      res.end(js ? bundle.outputFiles[0]!.text : html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    let died: Error | undefined;
    worker.on('died', (error) => (died = error));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
      ],
    });
    try {
      const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
      const transport = await router.createWebRtcTransport({
        listenInfos: [
          { protocol: 'udp', ip: '127.0.0.1' },
          { protocol: 'tcp', ip: '127.0.0.1' },
        ],
      });
      const dtlsStates: ms.DtlsState[] = [];
      transport.on('dtlsstatechange', (state) => dtlsStates.push(state));
      const producers: ms.Producer[] = [];

      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.exposeFunction('signal', async (what: string, data: any) => {
        switch (what) {
          case 'rtpCapabilities':
            return router.rtpCapabilities;
          case 'createTransport':
            return {
              id: transport.id,
              iceParameters: transport.iceParameters,
              iceCandidates: transport.iceCandidates,
              dtlsParameters: transport.dtlsParameters,
            };
          case 'connect':
            return transport.connect({ dtlsParameters: data.dtlsParameters });
          case 'produce': {
            const producer = await transport.produce({ kind: data.kind, rtpParameters: data.rtpParameters });
            producers.push(producer);
            return { id: producer.id };
          }
          default:
            throw new Error(`unknown signal ${what}`);
        }
      });
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      const kinds = (await page.evaluate('window.sendFakeMedia()').catch((error: Error) => {
        // A worker that crashes mid-handshake shows up here as a closed channel: say why.
        throw died ? new Error(`the worker died (DTLS: ${dtlsStates.join(' → ') || 'no state'}): ${died.message}`) : error;
      })) as string[];
      assert.deepEqual([...kinds].sort(), ['audio', 'video'], `page errors: ${pageErrors.join('; ')}`);

      await waitFor(`DTLS connected (states so far: ${dtlsStates.join(' → ') || 'none'})`, 10_000, () => {
        assert.ok(!dtlsStates.includes('failed') && !dtlsStates.includes('closed'), `DTLS: ${dtlsStates.join(' → ')}`);
        assert.equal(died, undefined, `the worker died during the handshake: ${died}`);
        return transport.dtlsState === 'connected';
      });

      // Bytes counted on the receive streams only once SRTP decrypted them.
      const received = new Map<string, number>();
      await waitFor('RTP on both producers', 10_000, async () => {
        for (const producer of producers) {
          const stats = await producer.getStats();
          received.set(producer.kind, stats.reduce((sum, s) => sum + s.byteCount, 0));
        }
        return received.size === 2 && [...received.values()].every((bytes) => bytes > 0);
      });
      assert.ok(received.get('audio')! > 0 && received.get('video')! > 0, JSON.stringify(Object.fromEntries(received)));
      assert.equal(died, undefined, `the worker died: ${died}`);
      assert.equal(worker.died, false);
      assert.equal(transport.dtlsState, 'connected');
      t.diagnostic(`${bin}: DTLS ${dtlsStates.join(' → ')}, received audio ${received.get('audio')} B, video ${received.get('video')} B`);
    } finally {
      await browser.close().catch(() => {});
      worker.close();
      server.close();
    }
  },
);
