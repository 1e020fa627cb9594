#include "kernel_bindings.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "addon.h"
#include "audio_kernels.h"
#include "cuda/cuda_kernels.h"
#include "image_kernels.h"

namespace omnilive {
namespace {

using kernels::PixelFormat;
using kernels::ResizeMode;

// The job runs on the pool (or inline); `resolve` builds the result on the main thread
// from the object kept alive for it (the output typed array), if any.
using Job = std::function<void()>;
using Resolve = std::function<Napi::Value(Napi::Env, Napi::Object kept)>;

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, const char* name, Job job, Resolve resolve, Napi::Object keep)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        resolve_(std::move(resolve)) {
    if (!keep.IsEmpty()) kept_ = Napi::Persistent(keep);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { job_(); }  // a std::exception becomes the rejection

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object kept = kept_.IsEmpty() ? Napi::Object() : kept_.Value();
    deferred_.Resolve(resolve_(env, kept));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  Resolve resolve_;
  Napi::ObjectReference kept_;
};

Napi::Value Run(Napi::Env env, bool async, const char* name, Job job, Resolve resolve,
                Napi::Object keep = Napi::Object()) {
  if (!async) {
    try {
      job();
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string(name) + ": " + e.what());
    }
    return resolve(env, keep);
  }
  auto* worker = new KernelWorker(env, name, std::move(job), std::move(resolve), keep);
  worker->Queue();
  return worker->Promise();
}

Napi::Value ReturnKept(Napi::Env, Napi::Object kept) { return kept; }

// A view of the input bytes: the typed array's own memory for sync calls, a copy owned by
// the job for async ones.
template <typename T>
struct Input {
  const T* data = nullptr;
  size_t size = 0;
  std::shared_ptr<std::vector<T>> owned;
};

template <typename T>
Input<T> TakeInput(const Napi::TypedArrayOf<T>& array, bool async) {
  Input<T> in;
  in.size = array.ElementLength();
  if (!async) {
    in.data = array.Data();
    return in;
  }
  in.owned = std::make_shared<std::vector<T>>(array.Data(), array.Data() + in.size);
  in.data = in.owned->data();
  return in;
}

// A new zero-filled typed array of n elements. Allocated through the JS constructor:
// napi_create_arraybuffer aborts the process when memory runs out, the constructor throws.
template <typename T>
T NewArray(Napi::Env env, Napi::FunctionReference OmniliveAddon::*ctor, size_t n) {
  Napi::FunctionReference& fn = env.GetInstanceData<OmniliveAddon>()->*ctor;
  return fn.New({Napi::Number::New(env, static_cast<double>(n))}).As<T>();
}

Napi::Uint8Array NewUint8(Napi::Env env, size_t n) {
  return NewArray<Napi::Uint8Array>(env, &OmniliveAddon::uint8_array, n);
}
Napi::Int16Array NewInt16(Napi::Env env, size_t n) {
  return NewArray<Napi::Int16Array>(env, &OmniliveAddon::int16_array, n);
}
Napi::Float32Array NewFloat32(Napi::Env env, size_t n) {
  return NewArray<Napi::Float32Array>(env, &OmniliveAddon::float32_array, n);
}

int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
bool BoolArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Boolean>().Value(); }

// ---- backend choice ----

// CUDA is worth its transfers only on frames of this many pixels or more.
constexpr size_t kCudaMinPixels = 256 * 256;

ImageBackendState& Backend(Napi::Env env) { return env.GetInstanceData<OmniliveAddon>()->image_backend; }

void Probe(ImageBackendState& state) {
  if (state.probed) return;
  state.probed = true;
  std::string error;
  state.cuda_devices = cuda::DeviceCount(&error);
  if (state.cuda_devices > 0) {
    state.cuda_device_name = cuda::DeviceName();
  } else {
    state.cuda_error = error.empty() ? "no CUDA device" : error;
  }
}

bool CudaUsable(ImageBackendState& state) {
  Probe(state);
  return cuda::kCompiled && state.cuda_devices > 0;
}

const char* ActiveBackend(ImageBackendState& state) {
  if (state.preference == ImageBackendState::Preference::kCpu || state.cuda_disabled) return "cpu";
  return CudaUsable(state) ? "cuda" : "cpu";
}

bool UseCuda(Napi::Env env, size_t pixels) {
  ImageBackendState& state = Backend(env);
  if (std::string(ActiveBackend(state)) != "cuda") return false;
  return pixels >= kCudaMinPixels || state.preference == ImageBackendState::Preference::kCuda;
}

// Main thread, after a job that tried CUDA: a failure sends later calls to the CPU.
void NoteCudaResult(Napi::Env env, bool tried, const std::string& error) {
  if (!tried || error.empty()) return;
  ImageBackendState& state = Backend(env);
  state.cuda_disabled = true;
  state.cuda_error = error;
}

Napi::Value ImageBackendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ImageBackendState& state = Backend(env);
  Napi::Object result = Napi::Object::New(env);
  const char* preference = state.preference == ImageBackendState::Preference::kAuto  ? "auto"
                           : state.preference == ImageBackendState::Preference::kCpu ? "cpu"
                                                                                     : "cuda";
  result.Set("active", ActiveBackend(state));
  result.Set("preference", preference);
  result.Set("cudaCompiled", cuda::kCompiled);
  result.Set("cudaDevices", state.cuda_devices);
  if (!state.cuda_device_name.empty()) result.Set("cudaDevice", state.cuda_device_name);
  if (!state.cuda_error.empty()) result.Set("cudaError", state.cuda_error);
  return result;
}

// setImageBackend('auto' | 'cpu' | 'cuda'); 'cuda' throws when no GPU can be used.
Napi::Value SetImageBackend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ImageBackendState& state = Backend(env);
  const std::string want = info[0].As<Napi::String>().Utf8Value();
  if (want == "cuda" && !CudaUsable(state)) {
    throw Napi::Error::New(env, "CUDA backend unavailable: " + state.cuda_error);
  }
  state.preference = want == "cpu"    ? ImageBackendState::Preference::kCpu
                     : want == "cuda" ? ImageBackendState::Preference::kCuda
                                      : ImageBackendState::Preference::kAuto;
  if (want != "cpu") state.cuda_disabled = false;
  return Napi::String::New(env, ActiveBackend(state));
}

// ---- image kernels ----

// convertToRgb(format, src: Uint8Array, width, height, async) → Uint8Array (RGB24)
Napi::Value ConvertToRgb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto format = static_cast<PixelFormat>(IntArg(info, 0));
  const int w = IntArg(info, 2), h = IntArg(info, 3);
  const bool async = BoolArg(info, 4);
  Input<uint8_t> src = TakeInput(info[1].As<Napi::Uint8Array>(), async);
  Napi::Uint8Array out = NewUint8(env, static_cast<size_t>(w) * h * 3);
  uint8_t* dst = out.Data();
  const bool cuda = UseCuda(env, static_cast<size_t>(w) * h);
  auto error = std::make_shared<std::string>();
  return Run(
      env, async, "omnilive:convertToRgb",
      [=] {
        if (cuda && cuda::ConvertToRgb(format, src.data, src.size, w, h, dst, error.get())) return;
        kernels::ConvertToRgb(format, src.data, w, h, dst);
      },
      [=](Napi::Env e, Napi::Object kept) -> Napi::Value {
        NoteCudaResult(e, cuda, *error);
        return kept;
      },
      out);
}

// resizeRgb(src, sw, sh, dw, dh, mode, async) → Uint8Array
Napi::Value ResizeRgb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int sw = IntArg(info, 1), sh = IntArg(info, 2), dw = IntArg(info, 3), dh = IntArg(info, 4);
  const auto mode = static_cast<ResizeMode>(IntArg(info, 5));
  const bool async = BoolArg(info, 6);
  Input<uint8_t> src = TakeInput(info[0].As<Napi::Uint8Array>(), async);
  Napi::Uint8Array out = NewUint8(env, static_cast<size_t>(dw) * dh * 3);
  uint8_t* dst = out.Data();
  const bool cuda = UseCuda(env, std::max(static_cast<size_t>(sw) * sh, static_cast<size_t>(dw) * dh));
  auto error = std::make_shared<std::string>();
  return Run(
      env, async, "omnilive:resizeRgb",
      [=] {
        if (cuda && cuda::ResizeRgb(src.data, sw, sh, dst, dw, dh, mode, error.get())) return;
        kernels::ResizeRgb(src.data, sw, sh, dst, dw, dh, mode);
      },
      [=](Napi::Env e, Napi::Object kept) -> Napi::Value {
        NoteCudaResult(e, cuda, *error);
        return kept;
      },
      out);
}

// normalizeChw(src, w, h, meanStd: Float64Array(6), out: Float32Array | undefined, async)
Napi::Value NormalizeChw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = IntArg(info, 1), h = IntArg(info, 2);
  const bool async = BoolArg(info, 5);
  Input<uint8_t> src = TakeInput(info[0].As<Napi::Uint8Array>(), async);
  auto params = info[3].As<Napi::Float64Array>();
  auto lut = std::make_shared<std::vector<float>>(3 * 256);
  kernels::NormalizeLut(params.Data(), params.Data() + 3, lut->data());
  Napi::Float32Array out = info[4].IsTypedArray() ? info[4].As<Napi::Float32Array>()
                                                  : NewFloat32(env, static_cast<size_t>(w) * h * 3);
  float* dst = out.Data();
  const bool cuda = UseCuda(env, static_cast<size_t>(w) * h);
  auto error = std::make_shared<std::string>();
  return Run(
      env, async, "omnilive:normalizeChw",
      [=] {
        if (cuda && cuda::NormalizeChw(src.data, w, h, lut->data(), dst, error.get())) return;
        kernels::NormalizeChw(src.data, w, h, lut->data(), dst);
      },
      [=](Napi::Env e, Napi::Object kept) -> Napi::Value {
        NoteCudaResult(e, cuda, *error);
        return kept;
      },
      out);
}

// sceneDescriptor(src, w, h, async) → Float32Array(192)
Napi::Value SceneDescriptor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = IntArg(info, 1), h = IntArg(info, 2);
  const bool async = BoolArg(info, 3);
  Input<uint8_t> src = TakeInput(info[0].As<Napi::Uint8Array>(), async);
  Napi::Float32Array out = NewFloat32(env, kernels::kSceneDescriptorSize);
  float* dst = out.Data();
  return Run(
      env, async, "omnilive:sceneDescriptor", [=] { kernels::SceneDescriptor(src.data, w, h, dst); }, ReturnKept,
      out);
}

// sceneSimilarity(a: Float32Array(192), b: Float32Array(192)) → number
Napi::Value SceneSimilarity(const Napi::CallbackInfo& info) {
  auto a = info[0].As<Napi::Float32Array>();
  auto b = info[1].As<Napi::Float32Array>();
  return Napi::Number::New(info.Env(), kernels::SceneSimilarity(a.Data(), b.Data()));
}

// perceptualHash(src, w, h, async) → bigint
Napi::Value PerceptualHash(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = IntArg(info, 1), h = IntArg(info, 2);
  const bool async = BoolArg(info, 3);
  Input<uint8_t> src = TakeInput(info[0].As<Napi::Uint8Array>(), async);
  auto hash = std::make_shared<uint64_t>(0);
  return Run(
      env, async, "omnilive:perceptualHash", [=] { *hash = kernels::PerceptualHash(src.data, w, h); },
      [=](Napi::Env e, Napi::Object) -> Napi::Value { return Napi::BigInt::New(e, *hash); });
}

// hammingDistance(a: bigint, b: bigint) → number (both in 0 .. 2^64 − 1)
Napi::Value HammingDistance(const Napi::CallbackInfo& info) {
  bool lossless = true;
  const uint64_t a = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  const uint64_t b = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  return Napi::Number::New(info.Env(), kernels::HammingDistance(a, b));
}

// ---- audio kernels ----

// Samples as floats: Float32Array as is (no copy when sync), Int16Array converted; with
// `scale` applied to int16 values and `padding` zeros appended.
struct Samples {
  const float* data = nullptr;
  size_t size = 0;
  std::shared_ptr<std::vector<float>> owned;
};

Samples TakeSamples(const Napi::Value& value, bool async, float int16_scale, size_t padding) {
  Samples s;
  if (value.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto array = value.As<Napi::Float32Array>();
    if (!async && padding == 0) {
      s.data = array.Data();
      s.size = array.ElementLength();
      return s;
    }
    s.owned = std::make_shared<std::vector<float>>(array.ElementLength() + padding, 0.0f);
    std::copy(array.Data(), array.Data() + array.ElementLength(), s.owned->begin());
  } else {
    auto array = value.As<Napi::Int16Array>();
    s.owned = std::make_shared<std::vector<float>>(array.ElementLength() + padding, 0.0f);
    for (size_t i = 0; i < array.ElementLength(); ++i) (*s.owned)[i] = array[i] * int16_scale;
  }
  s.data = s.owned->data();
  s.size = s.owned->size();
  return s;
}

// resamplePcm(samples: Int16Array | Float32Array, from, to, async) → same type
Napi::Value ResamplePcm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int from = IntArg(info, 1), to = IntArg(info, 2);
  const bool async = BoolArg(info, 3);
  const bool is_float = info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  Samples in = TakeSamples(info[0], async, 1.0f, 0);
  const size_t out_len = kernels::ResampledLength(in.size, from, to);
  if (is_float) {
    Napi::Float32Array out = NewFloat32(env, out_len);
    float* dst = out.Data();
    return Run(
        env, async, "omnilive:resamplePcm", [=] { kernels::Resample(in.data, in.size, from, to, dst); }, ReturnKept,
        out);
  }
  Napi::Int16Array out = NewInt16(env, out_len);
  int16_t* dst = out.Data();
  return Run(
      env, async, "omnilive:resamplePcm",
      [=] {
        std::vector<float> tmp(out_len);
        kernels::Resample(in.data, in.size, from, to, tmp.data());
        for (size_t i = 0; i < out_len; ++i) {
          const float v = std::floor(tmp[i] + 0.5f);
          dst[i] = static_cast<int16_t>(v > 32767.0f ? 32767.0f : (v < -32768.0f ? -32768.0f : v));
        }
      },
      ReturnKept, out);
}

// logMelSpectrogram(samples: Float32Array | Int16Array, nMels, padding, async)
//   → Float32Array [nMels × floor((n + padding) / 160)]
Napi::Value LogMelSpectrogram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int n_mels = IntArg(info, 1);
  const size_t padding = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  const bool async = BoolArg(info, 3);
  Samples in = TakeSamples(info[0], async, 1.0f / 32768.0f, padding);
  Napi::Float32Array out = NewFloat32(env, static_cast<size_t>(n_mels) * kernels::LogMelFrames(in.size));
  float* dst = out.Data();
  return Run(
      env, async, "omnilive:logMelSpectrogram", [=] { kernels::LogMelSpectrogram(in.data, in.size, n_mels, dst); },
      ReturnKept, out);
}

// melFilters(nMels) → Float32Array [nMels × 201]
Napi::Value MelFilters(const Napi::CallbackInfo& info) {
  const std::vector<float> filters = kernels::MelFilters(IntArg(info, 0));
  Napi::Float32Array out = NewFloat32(info.Env(), filters.size());
  std::copy(filters.begin(), filters.end(), out.Data());
  return out;
}

}  // namespace

void DefineKernels(Napi::Env env, Napi::Object exports, OmniliveAddon* addon) {
  Napi::Object global = env.Global();
  addon->uint8_array = Napi::Persistent(global.Get("Uint8Array").As<Napi::Function>());
  addon->int16_array = Napi::Persistent(global.Get("Int16Array").As<Napi::Function>());
  addon->float32_array = Napi::Persistent(global.Get("Float32Array").As<Napi::Function>());
  exports.Set("imageBackend", Napi::Function::New<ImageBackendInfo>(env, "imageBackend"));
  exports.Set("setImageBackend", Napi::Function::New<SetImageBackend>(env, "setImageBackend"));
  exports.Set("convertToRgb", Napi::Function::New<ConvertToRgb>(env, "convertToRgb"));
  exports.Set("resizeRgb", Napi::Function::New<ResizeRgb>(env, "resizeRgb"));
  exports.Set("normalizeChw", Napi::Function::New<NormalizeChw>(env, "normalizeChw"));
  exports.Set("sceneDescriptor", Napi::Function::New<SceneDescriptor>(env, "sceneDescriptor"));
  exports.Set("sceneSimilarity", Napi::Function::New<SceneSimilarity>(env, "sceneSimilarity"));
  exports.Set("perceptualHash", Napi::Function::New<PerceptualHash>(env, "perceptualHash"));
  exports.Set("hammingDistance", Napi::Function::New<HammingDistance>(env, "hammingDistance"));
  exports.Set("resamplePcm", Napi::Function::New<ResamplePcm>(env, "resamplePcm"));
  exports.Set("logMelSpectrogram", Napi::Function::New<LogMelSpectrogram>(env, "logMelSpectrogram"));
  exports.Set("melFilters", Napi::Function::New<MelFilters>(env, "melFilters"));
}

}  // namespace omnilive
