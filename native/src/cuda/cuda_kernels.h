// Host-side API of the CUDA image kernels (image_kernels.cu). Plain C++: no CUDA headers,
// so the rest of the addon compiles with g++ alone. Built only when nvcc is present
// (native/install.mjs defines OMNILIVE_CUDA and links the library); otherwise the inline
// stubs below report "not compiled" and every kernel runs on the CPU.
//
// Each call copies its input to the device, runs, copies the result back and frees its
// buffers; it is synchronous and safe to call from several threads at once (the library
// is compiled with --default-stream per-thread). On failure it returns false with
// *error set, and the caller falls back to the CPU kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../kernels_common.h"

namespace omnilive {
namespace cuda {

#ifdef OMNILIVE_CUDA

constexpr bool kCompiled = true;

// Number of CUDA devices; 0 (with *error set) without a driver or a GPU.
int DeviceCount(std::string* error);
// Name of device 0 ("" when unknown).
std::string DeviceName();

bool ConvertToRgb(kernels::PixelFormat format, const uint8_t* src, size_t src_len, int width, int height,
                  uint8_t* dst, std::string* error);
bool ResizeRgb(const uint8_t* src, int src_width, int src_height, uint8_t* dst, int dst_width, int dst_height,
               kernels::ResizeMode mode, std::string* error);
// lut: 3 × 256 floats, kernels::NormalizeLut.
bool NormalizeChw(const uint8_t* src, int width, int height, const float* lut, float* dst, std::string* error);

#else  // CPU-only build

constexpr bool kCompiled = false;

inline int DeviceCount(std::string* error) {
  *error = "addon built without CUDA (no nvcc at install time, or OMNILIVE_CUDA=0)";
  return 0;
}
inline std::string DeviceName() { return ""; }
inline bool ConvertToRgb(kernels::PixelFormat, const uint8_t*, size_t, int, int, uint8_t*, std::string* error) {
  *error = "CUDA not compiled";
  return false;
}
inline bool ResizeRgb(const uint8_t*, int, int, uint8_t*, int, int, kernels::ResizeMode, std::string* error) {
  *error = "CUDA not compiled";
  return false;
}
inline bool NormalizeChw(const uint8_t*, int, int, const float*, float*, std::string* error) {
  *error = "CUDA not compiled";
  return false;
}

#endif

}  // namespace cuda
}  // namespace omnilive
