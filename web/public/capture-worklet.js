// AudioWorklet: microphone → mono → resampled pcm16 (little-endian) chunks, with their level.
// Runs on the audio rendering thread; posts { pcm: ArrayBuffer, rms, peak } every chunkMs.

/** Kernel table resolution: entries per input sample. */
const PHASES = 64;

class PcmCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 24000, chunkMs = 100, halfWidth = 8 } = options.processorOptions || {};
    // `sampleRate` is the AudioContext's rate (a global of the worklet scope).
    this.step = sampleRate / targetRate; // input samples per output sample
    const widen = Math.max(1, this.step); // downsampling: widen the kernel, lower the cutoff
    this.half = Math.ceil(halfWidth * widen);
    const cutoff = (0.5 / widen) * 0.92; // cycles per input sample, a little under Nyquist
    // Blackman-windowed sinc low-pass, tabulated over [0, half] (it is symmetric).
    this.table = new Float32Array(this.half * PHASES + 2);
    for (let i = 0; i < this.table.length; i++) {
      const x = i / PHASES;
      if (x > this.half) break;
      const a = 2 * Math.PI * cutoff * x;
      const sinc = x === 0 ? 1 : Math.sin(a) / a;
      const r = x / this.half;
      const window = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2 * Math.PI * r);
      this.table[i] = sinc * window;
    }
    // Input history (mono), starting with `half` samples of silence so output 0 aligns with input 0.
    this.buf = new Float32Array(4096);
    this.len = this.half;
    this.pos = this.half;
    this.chunkSamples = Math.max(1, Math.round((targetRate * chunkMs) / 1000));
    this.#newChunk();
    this.stopped = false;
    this.port.onmessage = (e) => {
      if (e.data === 'stop') this.stopped = true;
    };
  }

  #newChunk() {
    this.chunk = new DataView(new ArrayBuffer(this.chunkSamples * 2));
    this.fill = 0;
    this.sumSquares = 0;
    this.peak = 0;
  }

  #push(sample) {
    const s = sample > 1 ? 1 : sample < -1 ? -1 : sample;
    this.chunk.setInt16(this.fill * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
    this.fill++;
    this.sumSquares += s * s;
    const abs = s < 0 ? -s : s;
    if (abs > this.peak) this.peak = abs;
    if (this.fill === this.chunkSamples) {
      const pcm = this.chunk.buffer;
      this.port.postMessage({ pcm, rms: Math.sqrt(this.sumSquares / this.fill), peak: this.peak }, [pcm]);
      this.#newChunk();
    }
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // no source connected (yet)
    const frames = channels[0].length;
    if (this.len + frames > this.buf.length) {
      const bigger = new Float32Array((this.len + frames) * 2);
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    // Downmix: the mean of all channels.
    const n = channels.length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < n; c++) sum += channels[c][i];
      this.buf[this.len + i] = sum / n;
    }
    this.len += frames;

    // Emit every output sample whose kernel lies inside the history.
    const { buf, table, half } = this;
    while (Math.floor(this.pos) + half < this.len) {
      const base = Math.floor(this.pos);
      let acc = 0;
      let weights = 0;
      for (let k = base - half + 1; k <= base + half; k++) {
        const x = Math.abs(k - this.pos) * PHASES;
        const xi = x | 0;
        const w = table[xi] + (table[xi + 1] - table[xi]) * (x - xi);
        acc += buf[k] * w;
        weights += w;
      }
      this.#push(weights > 0 ? acc / weights : 0);
      this.pos += this.step;
    }
    // Forget input no future output needs.
    const drop = Math.floor(this.pos) - half;
    if (drop > 0) {
      buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.pos -= drop;
    }
    return true;
  }
}

registerProcessor('pcm-capture', PcmCaptureProcessor);
