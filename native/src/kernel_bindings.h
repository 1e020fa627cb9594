// N-API functions of the image and audio kernels. native/index.ts validates every
// argument first; these functions trust them. Each heavy kernel takes a trailing `async`
// flag: false runs it on the calling thread, true on the libuv pool (Napi::AsyncWorker)
// and returns a Promise. Async calls copy their input first (the caller may reuse its
// buffer at once) and write straight into the output typed array, which JS only sees
// once the promise resolves.
#pragma once

#include <napi.h>

#include <string>

namespace omnilive {

// Which backend runs the image kernels that have a CUDA version. Per environment.
struct ImageBackendState {
  enum class Preference { kAuto, kCpu, kCuda };
  Preference preference = Preference::kAuto;
  bool probed = false;   // cudaGetDeviceCount asked (lazily, on first use)
  int cuda_devices = 0;  // from the probe
  std::string cuda_device_name;
  std::string cuda_error;      // why CUDA is unavailable, or its last failure
  bool cuda_disabled = false;  // a CUDA call failed; CPU until setImageBackend()
};

class OmniliveAddon;

void DefineKernels(Napi::Env env, Napi::Object exports, OmniliveAddon* addon);

}  // namespace omnilive
