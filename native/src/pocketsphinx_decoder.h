// PocketsphinxDecoder: one pocketsphinx decoder (one utterance at a time) exposed to JS.
// Every call that does real work runs on the libuv thread pool and returns a Promise.
#pragma once

#include <napi.h>

typedef struct ps_decoder_s ps_decoder_t;  // same typedef as <pocketsphinx.h>

namespace omnilive {

class PocketsphinxDecoder : public Napi::ObjectWrap<PocketsphinxDecoder> {
 public:
  static Napi::Function Define(Napi::Env env);

  // Only called from native code (createDecoder) with an External<ps_decoder_t>.
  explicit PocketsphinxDecoder(const Napi::CallbackInfo& info);
  ~PocketsphinxDecoder() override;

 private:
  friend class DecoderCall;

  static Napi::Value CreateDecoder(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Process(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  // Returns a rejected promise when no call may start now (closed, busy, wrong state).
  Napi::Value RejectIfUnavailable(Napi::Env env, bool need_utterance, bool need_idle);
  void Release();  // hands ps_ to a FreeWorker

  // All fields are touched on the main thread only; a worker just uses ps_.
  ps_decoder_t* ps_ = nullptr;
  bool closed_ = false;
  bool busy_ = false;          // a DecoderCall is running on the thread pool
  bool in_utterance_ = false;  // between a successful start() and end()
};

}  // namespace omnilive
