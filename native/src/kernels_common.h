// Per-pixel arithmetic shared by the CPU image kernels (image_kernels.cc) and the CUDA
// ones (cuda/image_kernels.cu), so both backends compute the same numbers. Header-only,
// no N-API and no CUDA headers: under nvcc the functions become __host__ __device__.
//
// Everything that decides an output value is spelled out here once; the TypeScript
// reference (server/perception/kernels/reference.ts) follows the same formulas.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define OMNI_HD __host__ __device__ __forceinline__
#else
#define OMNI_HD inline
#endif

namespace omnilive {
namespace kernels {

enum class PixelFormat : int { kI420 = 0, kNv12 = 1, kRgba = 2 };
enum class ResizeMode : int { kArea = 0, kBilinear = 1 };

// ---- YUV → RGB: BT.601, limited range (Y 16..235, UV 16..240), as ffmpeg's default
// yuv420p → rgb24 conversion. 16-bit fixed point, round half up, clamp to 0..255.
constexpr int kYScale = 76309;   // 255/219         · 65536
constexpr int kRFromV = 104597;  // 1.402 · 255/224 · 65536
constexpr int kGFromU = 25675;   // 0.344136 · 255/224 · 65536
constexpr int kGFromV = 53279;   // 0.714136 · 255/224 · 65536
constexpr int kBFromU = 132201;  // 1.772 · 255/224 · 65536

OMNI_HD uint8_t ClampByte(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

// `>> 16` of a negative int is an arithmetic shift on every compiler we build with
// (and guaranteed since C++20); JavaScript's `>>` does the same.
OMNI_HD void YuvToRgb(int y, int u, int v, uint8_t* rgb) {
  const int c = (y - 16) * kYScale + 32768;
  const int d = u - 128;
  const int e = v - 128;
  rgb[0] = ClampByte((c + kRFromV * e) >> 16);
  rgb[1] = ClampByte((c - kGFromU * d - kGFromV * e) >> 16);
  rgb[2] = ClampByte((c + kBFromU * d) >> 16);
}

// Chroma planes of 4:2:0 frames are ceil(w/2) × ceil(h/2), as ffmpeg lays them out.
OMNI_HD int ChromaSize(int n) { return (n + 1) >> 1; }

// ---- Bilinear resize: half-pixel centres like OpenCV's INTER_LINEAR. Weights are 11-bit
// fixed point (0..2048); the 2-D sum is exact in 32 bits, then rounded once.
constexpr int kLinearBits = 11;
constexpr int kLinearOne = 1 << kLinearBits;

struct LinearTap {
  int i0;  // first source index
  int i1;  // second source index (== i0 at the borders)
  int w1;  // weight of i1 in 1/2048; i0 gets 2048 - w1
};

// `scale` is src / dst in double precision.
OMNI_HD LinearTap BilinearTap(int d, double scale, int src) {
  const double s = (d + 0.5) * scale - 0.5;
  int i0 = static_cast<int>(floor(s));
  double f = s - i0;
  if (i0 < 0) {
    i0 = 0;
    f = 0;
  }
  if (i0 >= src - 1) {
    i0 = src - 1;
    f = 0;
  }
  LinearTap tap;
  tap.i0 = i0;
  tap.i1 = i0 + 1 < src ? i0 + 1 : i0;
  tap.w1 = static_cast<int>(floor(f * kLinearOne + 0.5));
  return tap;
}

// (p00, p01) on the upper row, (p10, p11) on the lower; returns the rounded value.
OMNI_HD uint8_t BilinearMix(int p00, int p01, int p10, int p11, int wx, int wy) {
  const int top = p00 * (kLinearOne - wx) + p01 * wx;
  const int bottom = p10 * (kLinearOne - wx) + p11 * wx;
  const int v = top * (kLinearOne - wy) + bottom * wy;  // ≤ 255 · 2^22
  return static_cast<uint8_t>((v + (1 << (2 * kLinearBits - 1))) >> (2 * kLinearBits));
}

// ---- Area (box filter) resize: output pixel d covers the source interval
// [d·scale, (d+1)·scale); each source pixel weighs its overlap / scale, so weights sum
// to 1. Downscaling averages; upscaling degenerates to nearest with blended borders.
struct AreaSpan {
  int first;  // first source index
  int last;   // last source index, inclusive
  double start;
  double end;
};

OMNI_HD AreaSpan AreaSpanOf(int d, double scale, int src) {
  AreaSpan span;
  span.start = d * scale;
  span.end = (d + 1) * scale;
  if (span.end > src) span.end = src;
  span.first = static_cast<int>(floor(span.start));
  span.last = static_cast<int>(ceil(span.end)) - 1;
  if (span.last > src - 1) span.last = src - 1;
  if (span.last < span.first) span.last = span.first;
  return span;
}

OMNI_HD double AreaWeight(const AreaSpan& span, int i, double scale) {
  const double lo = i > span.start ? i : span.start;
  const double hi = i + 1 < span.end ? i + 1 : span.end;
  return hi > lo ? (hi - lo) / scale : 0.0;
}

// Rounds a non-negative accumulated value to a byte (half up).
OMNI_HD uint8_t RoundByte(float v) {
  const int r = static_cast<int>(v + 0.5f);
  return static_cast<uint8_t>(r > 255 ? 255 : (r < 0 ? 0 : r));
}

// ---- Normalization to CHW float: (v/255 − mean[c]) / std[c] for every byte value v,
// tabulated channel-major: lut[c·256 + v]. Computed in double, stored as float.
inline void NormalizeLut(const double mean[3], const double std_dev[3], float* lut) {
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) lut[c * 256 + v] = static_cast<float>((v / 255.0 - mean[c]) / std_dev[c]);
  }
}

}  // namespace kernels
}  // namespace omnilive
