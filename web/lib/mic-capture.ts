// Microphone → AudioWorklet (web/public/capture-worklet.js) → pcm16 chunks at the session's
// input rate, with their level. The level always drives the meter; the chunks are sent
// only on the WebSocket path (with WebRTC the server takes the Opus track instead).

export type MicLevel = { rms: number; peak: number };
export type MicChunk = (pcm: ArrayBuffer, level: MicLevel) => void;

const loaded = new WeakMap<AudioContext, Promise<void>>();

export class MicCapture {
  readonly #source: MediaStreamAudioSourceNode;
  readonly #node: AudioWorkletNode;

  private constructor(source: MediaStreamAudioSourceNode, node: AudioWorkletNode) {
    this.#source = source;
    this.#node = node;
  }

  /** `workletUrl`: the processor module, from the OmniLive server (never a blob: URL, so strict CSPs allow it). */
  static async start(ctx: AudioContext, track: MediaStreamTrack, onChunk: MicChunk, targetRate = 24000, workletUrl = '/capture-worklet.js'): Promise<MicCapture> {
    // Worklets must be separate modules: the processor is a plain file in public/.
    if (!loaded.has(ctx)) loaded.set(ctx, ctx.audioWorklet.addModule(workletUrl));
    await loaded.get(ctx);
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const node = new AudioWorkletNode(ctx, 'pcm-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      processorOptions: { targetRate, chunkMs: 100 },
    });
    node.port.onmessage = (e) => onChunk(e.data.pcm, { rms: e.data.rms, peak: e.data.peak });
    source.connect(node);
    return new MicCapture(source, node);
  }

  stop(): void {
    this.#node.port.onmessage = null;
    this.#node.port.postMessage('stop');
    this.#source.disconnect();
  }
}

/** 0..1 for the meter: -60 dBFS and below is empty. */
export function meterValue(level: MicLevel | null): number {
  const rms = level?.rms ?? 0;
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  return Math.min(1, Math.max(0, (db + 60) / 60));
}
