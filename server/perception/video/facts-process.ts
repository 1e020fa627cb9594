// The child side of FactsHost: loads the keyframe engines and reads facts of the frames sent.
import { parentHealthSink } from '../../child-rpc.ts';
import { OnnxImageEmbedder } from '../embedding/index.ts';
import { CenterNetDetector } from '../objects/index.ts';
import { HumanPeopleReader } from '../people/index.ts';
import { PpOcrEngine } from '../ocr/index.ts';
import { EngineFactsReader, type VisionEngines } from './facts.ts';
import type { FactsHostOptions } from './facts-host.ts';
import type { RgbImage } from './types.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as FactsHostOptions;
const reply = (message: unknown) => process.connected && process.send!(message);

// The models' own processes restart on their own; the parent hears of it (its metrics, its sessions).
const supervision = { health: parentHealthSink(), restart: options.restart };

let reader: EngineFactsReader;
try {
  const engines: VisionEngines = {};
  if (options.ocr) engines.ocr = await PpOcrEngine.load();
  if (options.objects) engines.objects = await CenterNetDetector.load({}, supervision);
  if (options.embedding) engines.embedder = await OnnxImageEmbedder.load(options.embedding);
  if (options.people && options.objects) engines.people = await HumanPeopleReader.load({}, supervision);
  reader = new EngineFactsReader(engines);
} catch (error) {
  reply({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// One frame at a time: the parent's scheduler already queues, and one core stays for audio.
let chain: Promise<void> = Promise.resolve();
process.on('message', (message: { id?: number; op?: 'read' | 'embed'; image?: RgbImage; close?: boolean }) => {
  if (message.close) {
    chain.then(() => reader.close()).finally(() => process.disconnect());
    return;
  }
  const { id, image } = message;
  chain = chain.then(async () => {
    try {
      if (message.op === 'embed') {
        if (!reader.embed) throw new Error('no image embedding model is loaded');
        reply({ id, embedding: await reader.embed(image!) });
      } else {
        reply({ id, facts: await reader.read(image!) });
      }
    } catch (error) {
      reply({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
process.on('disconnect', () => {
  void reader.close().finally(() => process.exit(0));
});
reply({ ready: true, names: reader.names });
