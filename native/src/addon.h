// Per-environment state of the omnilive_native addon. Node may load the addon into
// several environments (main thread + worker_threads), so everything that would
// otherwise be a static lives here, reachable via env.GetInstanceData<OmniliveAddon>().
#pragma once

#include <napi.h>

#include "kernel_bindings.h"

namespace omnilive {

class OmniliveAddon : public Napi::Addon<OmniliveAddon> {
 public:
  OmniliveAddon(Napi::Env env, Napi::Object exports);

  // Constructors of the exported classes, for creating instances from native code.
  Napi::FunctionReference pocketsphinx_decoder;

  // Image kernel backend choice (CPU or CUDA), see kernel_bindings.cc.
  ImageBackendState image_backend;
  // Typed array constructors as the addon found them: kernel outputs are allocated through
  // them, so a failed allocation throws a RangeError instead of aborting the process.
  Napi::FunctionReference uint8_array;
  Napi::FunctionReference int16_array;
  Napi::FunctionReference float32_array;
};

}  // namespace omnilive
