/**
 * A wall-clock time drawn into video frames so the receiver can tell when each frame was on
 * the "glass": 32 bits of epoch ms (mod 2³²) and an 8-bit check, as a 8 × 5 grid of black
 * and white cells big enough (80 × 72 px at 640 × 360) to survive VP8 at a few hundred kbps.
 * Used by the browser page (drawing) and the benchmark (reading); no DOM, no Node APIs.
 */
export const STAMP_COLS = 8;
export const STAMP_ROWS = 5;

/** The 40 cells, row by row: true = white. */
export function stampCells(epochMs: number): boolean[] {
  const value = Math.floor(epochMs) >>> 0;
  const bytes = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  const check = (bytes.reduce((a, b) => a + b, 0) ^ 0xa5) & 255;
  const cells: boolean[] = [];
  for (const byte of [...bytes, check]) for (let bit = 7; bit >= 0; bit--) cells.push(((byte >>> bit) & 1) === 1);
  return cells;
}

/**
 * Reads the stamp back from an RGB24 frame of any size (cells are sampled at their centres).
 * Returns the epoch ms (the full value, taking the high bits from `nearMs`), or undefined
 * when the check fails (a frame caught mid-change, or too damaged to trust).
 */
export function readStamp(rgb: Uint8Array, width: number, height: number, nearMs: number): number | undefined {
  const bytes: number[] = [];
  for (let row = 0; row < STAMP_ROWS; row++) {
    let byte = 0;
    for (let col = 0; col < STAMP_COLS; col++) {
      const x = Math.floor(((col + 0.5) * width) / STAMP_COLS);
      const y = Math.floor(((row + 0.5) * height) / STAMP_ROWS);
      const i = (y * width + x) * 3;
      const luma = 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
      byte = (byte << 1) | (luma > 128 ? 1 : 0);
    }
    bytes.push(byte);
  }
  const [b0, b1, b2, b3, check] = bytes as [number, number, number, number, number];
  if (((b0 + b1 + b2 + b3) ^ 0xa5) % 256 !== check) return undefined;
  const low = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  const base = nearMs - (nearMs % 2 ** 32);
  // The low 32 bits wrap every ~49.7 days: take the candidate nearest to `nearMs`.
  const candidates = [base - 2 ** 32 + low, base + low, base + 2 ** 32 + low];
  return candidates.reduce((best, c) => (Math.abs(c - nearMs) < Math.abs(best - nearMs) ? c : best));
}
