import dgram from 'node:dgram';
import fs from 'node:fs/promises';

/** An RTP port and its RTCP port (RTP + 1), both free when handed out. */
export interface RtpPortPair {
  rtp: number;
  rtcp: number;
  release(): void;
}

/**
 * Hands out even RTP ports (RTCP on the odd port above) for the ffmpeg decoders. Pairs held
 * in this process are never handed out twice; each candidate is also bound once to make sure
 * no other process holds it. Allocation walks the range round-robin, so a port released a
 * moment ago (its socket maybe still closing in ffmpeg) is the last to be reused.
 */
export class RtpPortPool {
  readonly #min: number;
  readonly #max: number;
  readonly #host: string;
  readonly #held = new Set<number>();
  #next: number;

  constructor(range: { min: number; max: number }, host = '127.0.0.1') {
    const min = range.min + (range.min % 2);
    if (!(Number.isInteger(range.min) && Number.isInteger(range.max)) || min + 1 > range.max || min < 1024 || range.max > 65535) {
      throw new RangeError(`RTP port range ${range.min}-${range.max} must be integers within 1024-65535 holding at least one even/odd pair`);
    }
    this.#min = min;
    this.#max = range.max;
    this.#host = host;
    this.#next = min;
  }

  /** Pairs held by this process right now. */
  get held(): number {
    return this.#held.size;
  }

  async allocate(): Promise<RtpPortPair> {
    const pairs = Math.floor((this.#max - this.#min + 1) / 2);
    for (let tried = 0; tried < pairs; tried++) {
      const rtp = this.#next;
      this.#next = rtp + 2 + 1 > this.#max ? this.#min : rtp + 2;
      if (this.#held.has(rtp)) continue;
      this.#held.add(rtp); // claim before the await, so a concurrent allocate() skips it
      if ((await isUdpPortFree(rtp, this.#host)) && (await isUdpPortFree(rtp + 1, this.#host))) {
        let released = false;
        return {
          rtp,
          rtcp: rtp + 1,
          release: () => {
            if (released) return;
            released = true;
            this.#held.delete(rtp);
          },
        };
      }
      this.#held.delete(rtp);
    }
    throw new Error(`no free RTP port pair in ${this.#min}-${this.#max} (${this.#held.size} held by this server)`);
  }
}

/** Whether a UDP port can be bound right now (false while ffmpeg or anyone else holds it). */
function isUdpPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * Whether some process has a UDP socket bound to this port, from the kernel's socket tables
 * (Linux). Elsewhere the answer is "yes" after a short grace period.
 */
export async function udpPortBound(port: number): Promise<boolean> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let readable = false;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    readable = true;
    // Each row: "sl local_address rem_address ..."; the local address is the second column.
    if (text.split('\n').some((row) => row.trim().split(/\s+/)[1]?.endsWith(suffix))) return true;
  }
  if (!readable) await new Promise((r) => setTimeout(r, 300));
  return !readable;
}
