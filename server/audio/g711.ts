import { pcm16FromBytes } from './pcm.ts';

/**
 * G.711 (ITU-T) μ-law and A-law, the 8 kHz telephony codecs the Realtime API names
 * `audio/pcmu` and `audio/pcma`: one byte a sample, decoded to and encoded from pcm16.
 */

export type AudioEncoding = 'pcm16' | 'pcmu' | 'pcma';

const MULAW_BIAS = 0x84;
const CLIP = 32635;

function mulawDecodeByte(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawDecodeByte(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** The segment (exponent) of a biased magnitude: position of its highest set bit above bit 7. */
function segment(value: number): number {
  let exponent = 7;
  for (let mask = 0x4000; (value & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return exponent;
}

function mulawEncodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), CLIP) + MULAW_BIAS;
  const exponent = segment(magnitude);
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A-law segment ends of the 13-bit magnitude (G.711 table 1). */
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function alawEncodeSample(sample: number): number {
  let value = sample >> 3; // A-law quantizes 13 bits
  let mask = 0xd5; // sign bit set for non-negative, with the even-bit inversion
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const seg = ALAW_SEGMENT_ENDS.findIndex((end) => value <= end);
  if (seg < 0) return 0x7f ^ mask;
  const quant = seg < 2 ? (value >> 1) & 0x0f : (value >> seg) & 0x0f;
  return ((seg << 4) | quant) ^ mask;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => mulawDecodeByte(b));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => alawDecodeByte(b));

export function decodeG711(bytes: Uint8Array, law: 'pcmu' | 'pcma'): Int16Array {
  const table = law === 'pcmu' ? MULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}

export function encodeG711(pcm: Int16Array, law: 'pcmu' | 'pcma'): Uint8Array {
  const encode = law === 'pcmu' ? mulawEncodeSample : alawEncodeSample;
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = encode(pcm[i]!);
  return out;
}

/** Client audio bytes in a session's input encoding → pcm16. */
export function decodeAudio(bytes: Uint8Array, encoding: AudioEncoding): Int16Array {
  return encoding === 'pcm16' ? pcm16FromBytes(bytes) : decodeG711(bytes, encoding);
}

/** pcm16 → the bytes of a session's output encoding. */
export function encodeAudio(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  if (encoding === 'pcm16') return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return encodeG711(pcm, encoding);
}
