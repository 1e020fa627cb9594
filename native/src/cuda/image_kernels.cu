// CUDA versions of the image kernels: colour conversion, resize (area, bilinear) and
// CHW normalization. The per-pixel arithmetic is kernels_common.h, shared with the CPU
// code; tap positions and weights are computed on the host exactly as the CPU does and
// uploaded, so both backends produce the same bytes (compiled with --fmad=false).
//
// Compiled by native/install.mjs with nvcc into a static library, only when nvcc exists.
#include <cuda_runtime.h>

#include <vector>

#include "../kernels_common.h"
#include "cuda_kernels.h"

namespace omnilive {
namespace cuda {
namespace {

using kernels::PixelFormat;
using kernels::ResizeMode;

constexpr int kBlockX = 32;
constexpr int kBlockY = 8;

dim3 GridFor(int w, int h) { return dim3((w + kBlockX - 1) / kBlockX, (h + kBlockY - 1) / kBlockY); }

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string("CUDA ") + what + ": " + cudaGetErrorString(status);
  return false;
}

// Device allocation freed on scope exit.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  bool Allocate(size_t bytes, std::string* error) {
    return Check(cudaMalloc(&ptr_, bytes == 0 ? 1 : bytes), "cudaMalloc", error);
  }
  bool Upload(const void* src, size_t bytes, std::string* error) {
    return Allocate(bytes, error) && Check(cudaMemcpy(ptr_, src, bytes, cudaMemcpyHostToDevice), "upload", error);
  }
  template <typename T>
  T* As() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

bool Finish(const DeviceBuffer& out, void* dst, size_t bytes, std::string* error) {
  return Check(cudaGetLastError(), "kernel launch", error) &&
         Check(cudaMemcpy(dst, out.As<void>(), bytes, cudaMemcpyDeviceToHost), "download", error);
}

// ---- kernels ----

__global__ void Yuv420ToRgbKernel(const uint8_t* y_plane, const uint8_t* u_plane, const uint8_t* v_plane,
                                  int chroma_step, int chroma_stride, int width, int height, uint8_t* dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  const size_t c = static_cast<size_t>(y >> 1) * chroma_stride + static_cast<size_t>(x >> 1) * chroma_step;
  kernels::YuvToRgb(y_plane[static_cast<size_t>(y) * width + x], u_plane[c], v_plane[c],
                    dst + (static_cast<size_t>(y) * width + x) * 3);
}

__global__ void RgbaToRgbKernel(const uint8_t* src, size_t pixels, uint8_t* dst) {
  const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= pixels) return;
  dst[3 * i] = src[4 * i];
  dst[3 * i + 1] = src[4 * i + 1];
  dst[3 * i + 2] = src[4 * i + 2];
}

// taps: per output column (x0·3, x1·3, wx) and per output row (y0, y1, wy).
__global__ void BilinearKernel(const uint8_t* src, int src_width, const int* xtaps, const int* ytaps, int dst_width,
                               int dst_height, uint8_t* dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dst_width || y >= dst_height) return;
  const int a = xtaps[3 * x], b = xtaps[3 * x + 1], wx = xtaps[3 * x + 2];
  const uint8_t* r0 = src + static_cast<size_t>(ytaps[3 * y]) * src_width * 3;
  const uint8_t* r1 = src + static_cast<size_t>(ytaps[3 * y + 1]) * src_width * 3;
  const int wy = ytaps[3 * y + 2];
  uint8_t* out = dst + (static_cast<size_t>(y) * dst_width + x) * 3;
  for (int c = 0; c < 3; ++c) out[c] = kernels::BilinearMix(r0[a + c], r0[b + c], r1[a + c], r1[b + c], wx, wy);
}

// Axis tables as the CPU builds them: first, count, offset into weights.
__global__ void AreaKernel(const uint8_t* src, int src_width, const int* xaxis, const float* xweights, const int* yaxis,
                           const float* yweights, int dst_width, int dst_height, uint8_t* dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dst_width || y >= dst_height) return;
  const int x_first = xaxis[3 * x], x_count = xaxis[3 * x + 1];
  const float* wx = xweights + xaxis[3 * x + 2];
  const int y_first = yaxis[3 * y], y_count = yaxis[3 * y + 1];
  const float* wy = yweights + yaxis[3 * y + 2];
  // The CPU's order of operations: per source column, the vertical sum first, then the
  // horizontal sum of those.
  const size_t row_len = static_cast<size_t>(src_width) * 3;
  float acc[3] = {0, 0, 0};
  for (int kx = 0; kx < x_count; ++kx) {
    const uint8_t* p = src + static_cast<size_t>(y_first) * row_len + static_cast<size_t>(x_first + kx) * 3;
    float v[3] = {wy[0] * p[0], wy[0] * p[1], wy[0] * p[2]};
    for (int ky = 1; ky < y_count; ++ky) {
      p += row_len;
      for (int c = 0; c < 3; ++c) v[c] += wy[ky] * p[c];
    }
    for (int c = 0; c < 3; ++c) acc[c] += wx[kx] * v[c];
  }
  uint8_t* out = dst + (static_cast<size_t>(y) * dst_width + x) * 3;
  for (int c = 0; c < 3; ++c) out[c] = kernels::RoundByte(acc[c]);
}

__global__ void NormalizeKernel(const uint8_t* src, size_t pixels, const float* lut, float* dst) {
  const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= pixels) return;
  dst[i] = lut[src[3 * i]];
  dst[pixels + i] = lut[256 + src[3 * i + 1]];
  dst[2 * pixels + i] = lut[512 + src[3 * i + 2]];
}

unsigned Blocks1d(size_t n) { return static_cast<unsigned>((n + 255) / 256); }

// Area axis as in image_kernels.cc: [first, count, offset] per output index + weights.
void AreaAxis(int src, int dst, std::vector<int>* axis, std::vector<float>* weights) {
  const double scale = static_cast<double>(src) / dst;
  axis->resize(3 * static_cast<size_t>(dst));
  for (int d = 0; d < dst; ++d) {
    const kernels::AreaSpan span = kernels::AreaSpanOf(d, scale, src);
    (*axis)[3 * d] = span.first;
    (*axis)[3 * d + 1] = span.last - span.first + 1;
    (*axis)[3 * d + 2] = static_cast<int>(weights->size());
    for (int i = span.first; i <= span.last; ++i) {
      weights->push_back(static_cast<float>(kernels::AreaWeight(span, i, scale)));
    }
  }
}

}  // namespace

int DeviceCount(std::string* error) {
  int count = 0;
  if (!Check(cudaGetDeviceCount(&count), "cudaGetDeviceCount", error)) return 0;
  if (count == 0) *error = "no CUDA device";
  return count;
}

std::string DeviceName() {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "";
  return prop.name;
}

bool ConvertToRgb(PixelFormat format, const uint8_t* src, size_t src_len, int width, int height, uint8_t* dst,
                  std::string* error) {
  const size_t pixels = static_cast<size_t>(width) * height;
  DeviceBuffer in, out;
  if (!in.Upload(src, src_len, error) || !out.Allocate(pixels * 3, error)) return false;
  const uint8_t* base = in.As<uint8_t>();
  if (format == PixelFormat::kRgba) {
    RgbaToRgbKernel<<<Blocks1d(pixels), 256>>>(base, pixels, out.As<uint8_t>());
  } else {
    const int cw = kernels::ChromaSize(width), ch = kernels::ChromaSize(height);
    const uint8_t* u = base + pixels;
    if (format == PixelFormat::kI420) {
      Yuv420ToRgbKernel<<<GridFor(width, height), dim3(kBlockX, kBlockY)>>>(
          base, u, u + static_cast<size_t>(cw) * ch, 1, cw, width, height, out.As<uint8_t>());
    } else {
      Yuv420ToRgbKernel<<<GridFor(width, height), dim3(kBlockX, kBlockY)>>>(base, u, u + 1, 2, 2 * cw, width, height,
                                                                          out.As<uint8_t>());
    }
  }
  return Finish(out, dst, pixels * 3, error);
}

bool ResizeRgb(const uint8_t* src, int sw, int sh, uint8_t* dst, int dw, int dh, ResizeMode mode, std::string* error) {
  const size_t out_bytes = static_cast<size_t>(dw) * dh * 3;
  DeviceBuffer in, out;
  if (!in.Upload(src, static_cast<size_t>(sw) * sh * 3, error) || !out.Allocate(out_bytes, error)) return false;
  if (mode == ResizeMode::kBilinear) {
    std::vector<int> xt(3 * static_cast<size_t>(dw)), yt(3 * static_cast<size_t>(dh));
    const double sx = static_cast<double>(sw) / dw, sy = static_cast<double>(sh) / dh;
    for (int d = 0; d < dw; ++d) {
      const kernels::LinearTap t = kernels::BilinearTap(d, sx, sw);
      xt[3 * d] = t.i0 * 3;
      xt[3 * d + 1] = t.i1 * 3;
      xt[3 * d + 2] = t.w1;
    }
    for (int d = 0; d < dh; ++d) {
      const kernels::LinearTap t = kernels::BilinearTap(d, sy, sh);
      yt[3 * d] = t.i0;
      yt[3 * d + 1] = t.i1;
      yt[3 * d + 2] = t.w1;
    }
    DeviceBuffer xd, yd;
    if (!xd.Upload(xt.data(), xt.size() * sizeof(int), error) || !yd.Upload(yt.data(), yt.size() * sizeof(int), error)) {
      return false;
    }
    BilinearKernel<<<GridFor(dw, dh), dim3(kBlockX, kBlockY)>>>(in.As<uint8_t>(), sw, xd.As<int>(), yd.As<int>(), dw,
                                                                dh, out.As<uint8_t>());
    return Finish(out, dst, out_bytes, error);
  }
  std::vector<int> xa, ya;
  std::vector<float> xw, yw;
  AreaAxis(sw, dw, &xa, &xw);
  AreaAxis(sh, dh, &ya, &yw);
  DeviceBuffer xad, xwd, yad, ywd;
  if (!xad.Upload(xa.data(), xa.size() * sizeof(int), error) || !xwd.Upload(xw.data(), xw.size() * sizeof(float), error) ||
      !yad.Upload(ya.data(), ya.size() * sizeof(int), error) || !ywd.Upload(yw.data(), yw.size() * sizeof(float), error)) {
    return false;
  }
  AreaKernel<<<GridFor(dw, dh), dim3(kBlockX, kBlockY)>>>(in.As<uint8_t>(), sw, xad.As<int>(), xwd.As<float>(),
                                                          yad.As<int>(), ywd.As<float>(), dw, dh, out.As<uint8_t>());
  return Finish(out, dst, out_bytes, error);
}

bool NormalizeChw(const uint8_t* src, int width, int height, const float* lut, float* dst, std::string* error) {
  const size_t pixels = static_cast<size_t>(width) * height;
  DeviceBuffer in, table, out;
  if (!in.Upload(src, pixels * 3, error) || !table.Upload(lut, 3 * 256 * sizeof(float), error) ||
      !out.Allocate(pixels * 3 * sizeof(float), error)) {
    return false;
  }
  NormalizeKernel<<<Blocks1d(pixels), 256>>>(in.As<uint8_t>(), pixels, table.As<float>(), out.As<float>());
  return Finish(out, dst, pixels * 3 * sizeof(float), error);
}

}  // namespace cuda
}  // namespace omnilive
