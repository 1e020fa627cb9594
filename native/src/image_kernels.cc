#include "image_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>
#include <vector>

namespace omnilive {
namespace kernels {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Hot loops are also compiled for AVX-512 and AVX2, picked at load time (GNU ifunc). The
// results are the same bytes: integer arithmetic, or per element the same float
// operations in the same order.
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(__clang__)
#define OMNI_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define OMNI_MULTIVERSION
#endif

// ---- colour conversion ----

// 4:2:0 → RGB24 with YuvToRgb's arithmetic, laid out so the compiler vectorizes it: per
// chroma row, the chroma terms are expanded to one per pixel; per row, R, G and B are
// computed into planes, then interleaved. `chroma_step` is 1 for planar U and V, 2 for
// NV12's interleaved UV (then v_plane = u_plane + 1).
OMNI_MULTIVERSION
void Yuv420ToRgb(const uint8_t* y_plane, const uint8_t* u_plane, const uint8_t* v_plane, int chroma_step,
                 size_t chroma_stride, int width, int height, uint8_t* dst) {
  const int cw = ChromaSize(width);
  std::vector<int> terms(3 * static_cast<size_t>(2 * cw));
  int* rt = terms.data();
  int* gt = rt + 2 * cw;
  int* bt = gt + 2 * cw;
  std::vector<uint8_t> planes(3 * static_cast<size_t>(width));
  uint8_t* rp = planes.data();
  uint8_t* gp = rp + width;
  uint8_t* bp = gp + width;
  for (int y = 0; y < height; ++y) {
    if ((y & 1) == 0) {
      const uint8_t* u = u_plane + static_cast<size_t>(y >> 1) * chroma_stride;
      const uint8_t* v = v_plane + static_cast<size_t>(y >> 1) * chroma_stride;
      for (int cx = 0; cx < cw; ++cx) {
        const int d = u[cx * chroma_step] - 128;
        const int e = v[cx * chroma_step] - 128;
        const int r = kRFromV * e;
        const int g = -kGFromU * d - kGFromV * e;
        const int b = kBFromU * d;
        rt[2 * cx] = r;
        rt[2 * cx + 1] = r;
        gt[2 * cx] = g;
        gt[2 * cx + 1] = g;
        bt[2 * cx] = b;
        bt[2 * cx + 1] = b;
      }
    }
    const uint8_t* yr = y_plane + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      const int c = (yr[x] - 16) * kYScale + 32768;  // as in YuvToRgb
      const int r = (c + rt[x]) >> 16;
      const int g = (c + gt[x]) >> 16;
      const int b = (c + bt[x]) >> 16;
      rp[x] = static_cast<uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
      gp[x] = static_cast<uint8_t>(g < 0 ? 0 : (g > 255 ? 255 : g));
      bp[x] = static_cast<uint8_t>(b < 0 ? 0 : (b > 255 ? 255 : b));
    }
    uint8_t* out = dst + static_cast<size_t>(y) * width * 3;
    for (int x = 0; x < width; ++x) {
      out[3 * x] = rp[x];
      out[3 * x + 1] = gp[x];
      out[3 * x + 2] = bp[x];
    }
  }
}

void I420ToRgb(const uint8_t* src, int width, int height, uint8_t* dst) {
  const size_t cw = ChromaSize(width);
  const size_t ch = ChromaSize(height);
  const uint8_t* u_plane = src + static_cast<size_t>(width) * height;
  Yuv420ToRgb(src, u_plane, u_plane + cw * ch, 1, cw, width, height, dst);
}

void Nv12ToRgb(const uint8_t* src, int width, int height, uint8_t* dst) {
  const size_t cw = ChromaSize(width);
  const uint8_t* uv_plane = src + static_cast<size_t>(width) * height;
  Yuv420ToRgb(src, uv_plane, uv_plane + 1, 2, 2 * cw, width, height, dst);
}

OMNI_MULTIVERSION
void RgbaToRgb(const uint8_t* src, int width, int height, uint8_t* dst) {
  const size_t n = static_cast<size_t>(width) * height;
  for (size_t i = 0; i < n; ++i) {
    dst[3 * i] = src[4 * i];
    dst[3 * i + 1] = src[4 * i + 1];
    dst[3 * i + 2] = src[4 * i + 2];
  }
}

// ---- resize ----

void ResizeBilinear(const uint8_t* src, int sw, int sh, uint8_t* dst, int dw, int dh) {
  const double sx = static_cast<double>(sw) / dw;
  const double sy = static_cast<double>(sh) / dh;
  std::vector<int> x0(dw), x1(dw), wx(dw);
  for (int dx = 0; dx < dw; ++dx) {
    const LinearTap tap = BilinearTap(dx, sx, sw);
    x0[dx] = tap.i0 * 3;
    x1[dx] = tap.i1 * 3;
    wx[dx] = tap.w1;
  }
  const size_t src_stride = static_cast<size_t>(sw) * 3;
  for (int dy = 0; dy < dh; ++dy) {
    const LinearTap ty = BilinearTap(dy, sy, sh);
    const uint8_t* r0 = src + ty.i0 * src_stride;
    const uint8_t* r1 = src + ty.i1 * src_stride;
    uint8_t* out = dst + static_cast<size_t>(dy) * dw * 3;
    for (int dx = 0; dx < dw; ++dx) {
      const int a = x0[dx], b = x1[dx], w = wx[dx];
      for (int c = 0; c < 3; ++c) {
        out[3 * dx + c] = BilinearMix(r0[a + c], r0[b + c], r1[a + c], r1[b + c], w, ty.w1);
      }
    }
  }
}

// Area weights of one axis, flattened: output d reads `count[d]` source pixels from
// `first[d]` with weights weights[offset[d] ...]. T: float for resizing to bytes, double
// where the sums feed further arithmetic (descriptor, hash).
template <typename T>
struct AreaAxis {
  std::vector<int> first, count, offset;
  std::vector<T> weights;

  AreaAxis(int src, int dst) : first(dst), count(dst), offset(dst) {
    const double scale = static_cast<double>(src) / dst;
    for (int d = 0; d < dst; ++d) {
      const AreaSpan span = AreaSpanOf(d, scale, src);
      first[d] = span.first;
      count[d] = span.last - span.first + 1;
      offset[d] = static_cast<int>(weights.size());
      for (int i = span.first; i <= span.last; ++i) weights.push_back(static_cast<T>(AreaWeight(span, i, scale)));
    }
  }
};

// Vertical pass of the box filter: acc[i] = Σk w[k] · row(first + k)[i], k in order.
template <typename T>
inline void AreaVerticalT(const uint8_t* src, size_t row_len, int first, int count, const T* w, T* acc) {
  const uint8_t* r = src + static_cast<size_t>(first) * row_len;
  const T w0 = w[0];
  for (size_t i = 0; i < row_len; ++i) acc[i] = w0 * r[i];
  for (int k = 1; k < count; ++k) {
    r += row_len;
    const T wk = w[k];
    for (size_t i = 0; i < row_len; ++i) acc[i] += wk * r[i];
  }
}

OMNI_MULTIVERSION
void AreaVerticalFloat(const uint8_t* src, size_t row_len, int first, int count, const float* w, float* acc) {
  AreaVerticalT(src, row_len, first, count, w, acc);
}

OMNI_MULTIVERSION
void AreaVerticalDouble(const uint8_t* src, size_t row_len, int first, int count, const double* w, double* acc) {
  AreaVerticalT(src, row_len, first, count, w, acc);
}

// Separable box filter, vertical pass first (whole contiguous rows, vectorized), then the
// horizontal pass over that one row of sums. `emit(dy, row)` receives each output row.
// Each output value is Σx wx · (Σy wy · p), both sums in index order.
template <typename T, typename Emit>
void AreaResize(const uint8_t* src, int sw, int sh, int dw, int dh, Emit emit) {
  const AreaAxis<T> ax(sw, dw);
  const AreaAxis<T> ay(sh, dh);
  const size_t src_len = static_cast<size_t>(sw) * 3;
  const size_t dst_len = static_cast<size_t>(dw) * 3;
  std::vector<T> acc(src_len), row(dst_len);
  for (int dy = 0; dy < dh; ++dy) {
    const T* wy = ay.weights.data() + ay.offset[dy];
    if constexpr (std::is_same_v<T, float>) {
      AreaVerticalFloat(src, src_len, ay.first[dy], ay.count[dy], wy, acc.data());
    } else {
      AreaVerticalDouble(src, src_len, ay.first[dy], ay.count[dy], wy, acc.data());
    }
    for (int dx = 0; dx < dw; ++dx) {
      const T* p = acc.data() + static_cast<size_t>(ax.first[dx]) * 3;
      const T* w = ax.weights.data() + ax.offset[dx];
      T r = 0, g = 0, b = 0;
      for (int k = 0, n = ax.count[dx]; k < n; ++k, p += 3) {
        r += w[k] * p[0];
        g += w[k] * p[1];
        b += w[k] * p[2];
      }
      row[3 * dx] = r;
      row[3 * dx + 1] = g;
      row[3 * dx + 2] = b;
    }
    emit(dy, row.data());
  }
}

// ---- scene descriptor ----
//
// Two parts, computed on a working copy box-filtered to about 64×64 pixels (aspect kept,
// never enlarged), which averages sensor noise away and bounds the cost:
//  1. colour histogram, 8 hue × 4 chroma × 4 value bins (128), summing to 1. Chroma is
//     max−min (the HSV cone), not S = chroma/value, so dark noisy pixels don't look
//     saturated. Every coordinate is soft-binned (linear between bin centres, hue
//     circular), so a value near a bin border moves its weight gradually. In the lowest
//     chroma bin hue means nothing: its weight is spread evenly over the 8 hue bins.
//  2. edge layout, 8×8 grid of the mean gradient magnitude |∂x|+|∂y| of the grey image
//     (0..255 units), plus a floor of 2 (a noise floor, so flat frames compare equal
//     whatever their noise), L2-normalized (64).
// Similarity = 0.6 · histogram intersection + 0.4 · cosine of the layouts, in [0, 1].
// The histogram says "same colours", the layout "same structure"; colour gets the larger
// weight because it is the steadier cue under motion, as in content-aware cut detectors.
constexpr int kWorkingPixels = 64 * 64;
constexpr double kLayoutFloor = 2.0;

void WorkingSize(int width, int height, int target_pixels, int* ws, int* hs) {
  const double pixels = static_cast<double>(width) * height;
  if (pixels <= target_pixels) {
    *ws = width;
    *hs = height;
    return;
  }
  const double f = std::sqrt(pixels / target_pixels);
  *ws = std::max(1, static_cast<int>(std::floor(width / f + 0.5)));
  *hs = std::max(1, static_cast<int>(std::floor(height / f + 0.5)));
}

// Soft bin of x in [0, 1] over `bins` centres 0, 1/(bins−1), ..., 1.
inline void SoftBin(double x, int bins, int* k, double* t) {
  const double p = x * (bins - 1);
  int i = static_cast<int>(std::floor(p));
  if (i > bins - 2) i = bins - 2;
  if (i < 0) i = 0;
  *k = i;
  *t = p - i;
}

inline int HistIndex(int h, int c, int v) { return (h * kChromaBins + c) * kValueBins + v; }

void AddColour(double r, double g, double b, double* hist) {
  const double mx = std::max(r, std::max(g, b));
  const double mn = std::min(r, std::min(g, b));
  const double chroma = mx - mn;
  int kv, kc;
  double tv, tc;
  SoftBin(mx, kValueBins, &kv, &tv);
  SoftBin(chroma, kChromaBins, &kc, &tc);
  int kh = 0;
  double th = 0;
  if (chroma > 0) {
    double hue;  // sextant units, [0, 6)
    if (mx == r) {
      hue = (g - b) / chroma;
      if (hue < 0) hue += 6;
    } else if (mx == g) {
      hue = (b - r) / chroma + 2;
    } else {
      hue = (r - g) / chroma + 4;
    }
    const double p = hue * kHueBins / 6;
    kh = static_cast<int>(std::floor(p));
    th = p - kh;
    kh %= kHueBins;
  }
  const double wv[2] = {1 - tv, tv};
  const double wc[2] = {1 - tc, tc};
  for (int i = 0; i < 2; ++i) {
    const int c = kc + i;
    for (int j = 0; j < 2; ++j) {
      const int v = kv + j;
      const double w = wc[i] * wv[j];
      if (w == 0) continue;
      if (c == 0) {
        for (int h = 0; h < kHueBins; ++h) hist[HistIndex(h, 0, v)] += w / kHueBins;
      } else {
        hist[HistIndex(kh, c, v)] += w * (1 - th);
        hist[HistIndex((kh + 1) % kHueBins, c, v)] += w * th;
      }
    }
  }
}

inline double Grey(const double* px) { return 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2]; }

}  // namespace

size_t PackedFrameSize(PixelFormat format, int width, int height) {
  const size_t pixels = static_cast<size_t>(width) * height;
  switch (format) {
    case PixelFormat::kI420:
    case PixelFormat::kNv12:
      return pixels + 2 * static_cast<size_t>(ChromaSize(width)) * ChromaSize(height);
    case PixelFormat::kRgba:
      return pixels * 4;
  }
  return 0;
}

void ConvertToRgb(PixelFormat format, const uint8_t* src, int width, int height, uint8_t* dst) {
  switch (format) {
    case PixelFormat::kI420:
      return I420ToRgb(src, width, height, dst);
    case PixelFormat::kNv12:
      return Nv12ToRgb(src, width, height, dst);
    case PixelFormat::kRgba:
      return RgbaToRgb(src, width, height, dst);
  }
}

void ResizeRgb(const uint8_t* src, int sw, int sh, uint8_t* dst, int dw, int dh, ResizeMode mode) {
  if (mode == ResizeMode::kBilinear) return ResizeBilinear(src, sw, sh, dst, dw, dh);
  const size_t row_len = static_cast<size_t>(dw) * 3;
  AreaResize<float>(src, sw, sh, dw, dh, [&](int dy, const float* acc) {
    uint8_t* out = dst + dy * row_len;
    for (size_t i = 0; i < row_len; ++i) out[i] = RoundByte(acc[i]);
  });
}

void AreaResizeRgbDouble(const uint8_t* src, int sw, int sh, double* dst, int dw, int dh) {
  const size_t row_len = static_cast<size_t>(dw) * 3;
  AreaResize<double>(src, sw, sh, dw, dh,
                     [&](int dy, const double* acc) { std::copy(acc, acc + row_len, dst + dy * row_len); });
}

void NormalizeChw(const uint8_t* src, int width, int height, const float* lut, float* dst) {
  const float* lr = lut;
  const float* lg = lut + 256;
  const float* lb = lut + 512;
  const size_t n = static_cast<size_t>(width) * height;
  float* r = dst;
  float* g = dst + n;
  float* b = dst + 2 * n;
  for (size_t i = 0; i < n; ++i) {
    r[i] = lr[src[3 * i]];
    g[i] = lg[src[3 * i + 1]];
    b[i] = lb[src[3 * i + 2]];
  }
}

void SceneDescriptor(const uint8_t* rgb, int width, int height, float* out) {
  int ws, hs;
  WorkingSize(width, height, kWorkingPixels, &ws, &hs);
  std::vector<double> work(static_cast<size_t>(ws) * hs * 3);
  AreaResizeRgbDouble(rgb, width, height, work.data(), ws, hs);

  double hist[kHistogramSize] = {};
  std::vector<double> grey(static_cast<size_t>(ws) * hs);
  for (size_t i = 0; i < grey.size(); ++i) {
    const double* px = &work[3 * i];
    AddColour(px[0] / 255.0, px[1] / 255.0, px[2] / 255.0, hist);
    grey[i] = Grey(px);
  }
  const double pixels = static_cast<double>(grey.size());
  for (int i = 0; i < kHistogramSize; ++i) out[i] = static_cast<float>(hist[i] / pixels);

  double sum[kLayoutSize] = {};
  int count[kLayoutSize] = {};
  for (int y = 0; y < hs; ++y) {
    const int yu = std::max(y - 1, 0), yd = std::min(y + 1, hs - 1);
    const int cy = y * kLayoutGrid / hs;
    for (int x = 0; x < ws; ++x) {
      const int xl = std::max(x - 1, 0), xr = std::min(x + 1, ws - 1);
      const double gx = xr > xl ? (grey[y * ws + xr] - grey[y * ws + xl]) / (xr - xl) : 0.0;
      const double gy = yd > yu ? (grey[yd * ws + x] - grey[yu * ws + x]) / (yd - yu) : 0.0;
      const int cell = cy * kLayoutGrid + x * kLayoutGrid / ws;
      sum[cell] += std::fabs(gx) + std::fabs(gy);
      count[cell] += 1;
    }
  }
  double layout[kLayoutSize];
  double norm = 0;
  for (int i = 0; i < kLayoutSize; ++i) {
    layout[i] = (count[i] > 0 ? sum[i] / count[i] : 0.0) + kLayoutFloor;
    norm += layout[i] * layout[i];
  }
  norm = std::sqrt(norm);
  for (int i = 0; i < kLayoutSize; ++i) out[kHistogramSize + i] = static_cast<float>(layout[i] / norm);
}

double SceneSimilarity(const float* a, const float* b) {
  double inter = 0;
  for (int i = 0; i < kHistogramSize; ++i) inter += std::min(a[i], b[i]);
  double cosine = 0;
  for (int i = kHistogramSize; i < kSceneDescriptorSize; ++i) cosine += static_cast<double>(a[i]) * b[i];
  inter = std::min(1.0, std::max(0.0, inter));
  cosine = std::min(1.0, std::max(0.0, cosine));
  return kHistogramWeight * inter + kLayoutWeight * cosine;
}

// pHash: box-filter to 32×32, grey, 2-D DCT-II; the 8×8 lowest frequencies without the DC
// row and column (u, v = 1..8: DC only carries the mean brightness) are compared with
// their median. Bit 63 is (u, v) = (1, 1), then row by row.
uint64_t PerceptualHash(const uint8_t* rgb, int width, int height) {
  constexpr int kN = 32;
  constexpr int kK = 8;
  std::vector<double> work(kN * kN * 3);
  AreaResizeRgbDouble(rgb, width, height, work.data(), kN, kN);
  double grey[kN][kN];
  for (int y = 0; y < kN; ++y) {
    for (int x = 0; x < kN; ++x) grey[y][x] = Grey(&work[(y * kN + x) * 3]);
  }
  double basis[kK + 1][kN];
  for (int u = 1; u <= kK; ++u) {
    for (int x = 0; x < kN; ++x) basis[u][x] = std::cos(kPi * (2 * x + 1) * u / (2 * kN));
  }
  double rows[kN][kK + 1];  // rows[y][v] = Σx basis[v][x] · grey[y][x]
  for (int y = 0; y < kN; ++y) {
    for (int v = 1; v <= kK; ++v) {
      double s = 0;
      for (int x = 0; x < kN; ++x) s += basis[v][x] * grey[y][x];
      rows[y][v] = s;
    }
  }
  std::array<double, kK * kK> coef;
  for (int u = 1; u <= kK; ++u) {
    for (int v = 1; v <= kK; ++v) {
      double s = 0;
      for (int y = 0; y < kN; ++y) s += basis[u][y] * rows[y][v];
      coef[(u - 1) * kK + (v - 1)] = s;
    }
  }
  // A flat image has no AC energy: what is left is rounding noise, which must not pick bits.
  for (double& c : coef) {
    if (std::fabs(c) < 1e-6) c = 0;
  }
  std::array<double, kK * kK> sorted = coef;
  std::sort(sorted.begin(), sorted.end());
  const double median = (sorted[31] + sorted[32]) / 2;
  uint64_t hash = 0;
  for (int i = 0; i < kK * kK; ++i) {
    if (coef[i] > median) hash |= uint64_t{1} << (63 - i);
  }
  return hash;
}

int HammingDistance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace kernels
}  // namespace omnilive
