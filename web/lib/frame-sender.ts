// WebSocket fallback for video: one JPEG of the camera per second as omnilive.video_frame.append.
import { bytesToBase64 } from './pcm';

export class FrameSender {
  readonly #video = document.createElement('video');
  readonly #canvas = document.createElement('canvas');
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;
  sent = 0;

  /** `send` returns false when the frame could not go out (socket closed or congested). */
  constructor(track: MediaStreamTrack, send: (jpegBase64: string) => boolean, intervalMs = 1000) {
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#video.srcObject = new MediaStream([track]);
    this.#video.play().catch(() => {});
    this.#timer = setInterval(() => void this.#capture(send), intervalMs);
  }

  async #capture(send: (jpegBase64: string) => boolean): Promise<void> {
    const video = this.#video;
    if (this.#busy || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) return;
    this.#busy = true;
    try {
      this.#canvas.width = video.videoWidth;
      this.#canvas.height = video.videoHeight;
      this.#canvas.getContext('2d')!.drawImage(video, 0, 0);
      const blob = await new Promise<Blob | null>((resolve) => this.#canvas.toBlob(resolve, 'image/jpeg', 0.8));
      if (blob && send(bytesToBase64(new Uint8Array(await blob.arrayBuffer())))) this.sent++;
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#video.srcObject = null;
  }
}
