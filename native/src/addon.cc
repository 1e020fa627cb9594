// Entry point: registers each module of the addon. Modules live in their own files.
#include "addon.h"

#include "kernel_bindings.h"
#include "pocketsphinx_decoder.h"

namespace omnilive {

OmniliveAddon::OmniliveAddon(Napi::Env env, Napi::Object exports) {
  Napi::Function decoder = PocketsphinxDecoder::Define(env);
  pocketsphinx_decoder = Napi::Persistent(decoder);
  DefineAddon(exports, {InstanceValue("PocketsphinxDecoder", decoder, napi_enumerable)});
  DefineKernels(env, exports, this);
}

}  // namespace omnilive

// The macro pastes the name into identifiers, so it must be unqualified.
using omnilive::OmniliveAddon;
NODE_API_ADDON(OmniliveAddon)
