// Audio plumbing: microphone capture through an AudioWorklet, and gapless pcm16 playback.

/** Base64 of raw bytes (btoa wants a binary string; build it in slices). */
export function bytesToBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Base64 pcm16 little-endian → Float32 samples in [-1, 1). */
export function pcm16Base64ToFloat32(b64) {
  const binary = atob(b64);
  const n = binary.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = binary.charCodeAt(2 * i) | (binary.charCodeAt(2 * i + 1) << 8);
    if (v >= 0x8000) v -= 0x10000;
    out[i] = v / 0x8000;
  }
  return out;
}

/** getUserMedia with the voice-call processing on. Throws DOMExceptions (NotAllowedError, NotFoundError, ...). */
export async function openMicrophone() {
  if (!navigator.mediaDevices?.getUserMedia) {
    const error = new Error('getUserMedia is unavailable');
    error.name = 'InsecureContextError';
    throw error;
  }
  return navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
}

const workletLoaded = new WeakMap();

/** A running capture: MediaStream → worklet → onChunk(ArrayBuffer of pcm16 LE, { rms, peak }). */
export class MicCapture {
  #stream;
  #source;
  #node;

  static async start(ctx, stream, { targetRate = 24000, chunkMs = 100, onChunk }) {
    if (!workletLoaded.has(ctx)) workletLoaded.set(ctx, ctx.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url)));
    await workletLoaded.get(ctx);
    const capture = new MicCapture();
    capture.#stream = stream;
    capture.#source = ctx.createMediaStreamSource(stream);
    capture.#node = new AudioWorkletNode(ctx, 'pcm-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      processorOptions: { targetRate, chunkMs },
    });
    capture.#node.port.onmessage = (e) => onChunk(e.data.pcm, { rms: e.data.rms, peak: e.data.peak });
    capture.#source.connect(capture.#node);
    return capture;
  }

  get track() {
    return this.#stream.getAudioTracks()[0];
  }

  stop() {
    this.#node.port.onmessage = null;
    this.#node.port.postMessage('stop');
    this.#source.disconnect();
    for (const track of this.#stream.getTracks()) track.stop();
  }
}

/**
 * Plays pcm16 mono chunks back to back on an AudioContext: each chunk starts exactly where
 * the previous one ends. clear() silences everything scheduled at once (barge-in).
 */
export class PcmPlayer {
  #ctx;
  #rate;
  #out;
  #sources = new Set();
  #nextTime = 0;
  #onIdle;

  constructor(ctx, { rate = 24000, onIdle = () => {} } = {}) {
    this.#ctx = ctx;
    this.#rate = rate;
    this.#onIdle = onIdle;
    this.#out = this.#newOutput();
  }

  set rate(rate) {
    this.#rate = rate;
  }

  get playing() {
    return this.#sources.size > 0;
  }

  #newOutput() {
    const gain = this.#ctx.createGain();
    gain.connect(this.#ctx.destination);
    return gain;
  }

  enqueue(b64) {
    const samples = pcm16Base64ToFloat32(b64);
    if (!samples.length || this.#ctx.state === 'closed') return;
    const buffer = this.#ctx.createBuffer(1, samples.length, this.#rate);
    buffer.copyToChannel(samples, 0);
    const source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#out);
    const now = this.#ctx.currentTime;
    // Starting (or after an underrun): leave a little headroom so the next chunk is on time.
    if (this.#nextTime < now + 0.01) this.#nextTime = now + 0.06;
    source.start(this.#nextTime);
    this.#nextTime += buffer.duration;
    this.#sources.add(source);
    source.onended = () => {
      this.#sources.delete(source);
      if (!this.#sources.size) this.#onIdle();
    };
  }

  /** Stops all scheduled audio now, with a few-ms fade so it does not click. */
  clear() {
    if (!this.#sources.size) return;
    const now = this.#ctx.currentTime;
    const old = this.#out;
    old.gain.setValueAtTime(old.gain.value, now);
    old.gain.linearRampToValueAtTime(0, now + 0.012);
    for (const source of this.#sources) {
      source.onended = null;
      try {
        source.stop(now + 0.015);
      } catch {
        // never started or already stopped
      }
    }
    this.#sources.clear();
    this.#nextTime = 0;
    this.#out = this.#newOutput();
    setTimeout(() => old.disconnect(), 100);
    this.#onIdle();
  }
}
