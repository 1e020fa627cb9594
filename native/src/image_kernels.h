// CPU image kernels on packed buffers. Pure functions, no N-API: the callers
// (kernel_bindings.cc) have checked every size, and native/index.ts every argument.
// RGB images are RGB24, row-major, 3 bytes a pixel, no padding between rows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels_common.h"

namespace omnilive {
namespace kernels {

// Length in bytes of a packed frame of `format` (I420: Y, U, V planes; NV12: Y plane, UV
// interleaved; RGBA: 4 bytes a pixel).
size_t PackedFrameSize(PixelFormat format, int width, int height);

// src holds PackedFrameSize(format, width, height) bytes; dst width × height × 3.
void ConvertToRgb(PixelFormat format, const uint8_t* src, int width, int height, uint8_t* dst);

void ResizeRgb(const uint8_t* src, int src_width, int src_height, uint8_t* dst, int dst_width, int dst_height,
               ResizeMode mode);

// Area resize of RGB24 to double RGB (values 0..255, not rounded).
void AreaResizeRgbDouble(const uint8_t* src, int src_width, int src_height, double* dst, int dst_width,
                         int dst_height);

// lut[c·256 + src byte] (kernels::NormalizeLut) of each byte, written planar: dst[c·w·h + i].
void NormalizeChw(const uint8_t* src, int width, int height, const float* lut, float* dst);

// ---- Scene descriptor: see kSceneDescriptorSize and the comment in image_kernels.cc.
constexpr int kHueBins = 8;
constexpr int kChromaBins = 4;
constexpr int kValueBins = 4;
constexpr int kHistogramSize = kHueBins * kChromaBins * kValueBins;  // 128
constexpr int kLayoutGrid = 8;
constexpr int kLayoutSize = kLayoutGrid * kLayoutGrid;              // 64
constexpr int kSceneDescriptorSize = kHistogramSize + kLayoutSize;  // 192
constexpr double kHistogramWeight = 0.6;
constexpr double kLayoutWeight = 0.4;

void SceneDescriptor(const uint8_t* rgb, int width, int height, float* out /* kSceneDescriptorSize */);
double SceneSimilarity(const float* a, const float* b);

// ---- 64-bit DCT perceptual hash.
uint64_t PerceptualHash(const uint8_t* rgb, int width, int height);
int HammingDistance(uint64_t a, uint64_t b);

}  // namespace kernels
}  // namespace omnilive
