// Per-environment state of the omnilive_native addon. Node may load the addon into
// several environments (main thread + worker_threads), so everything that would
// otherwise be a static lives here, reachable via env.GetInstanceData<OmniliveAddon>().
#pragma once

#include <napi.h>

namespace omnilive {

class OmniliveAddon : public Napi::Addon<OmniliveAddon> {
 public:
  OmniliveAddon(Napi::Env env, Napi::Object exports);

  // Constructors of the exported classes, for creating instances from native code.
  Napi::FunctionReference pocketsphinx_decoder;
};

}  // namespace omnilive
