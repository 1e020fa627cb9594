#include "pocketsphinx_decoder.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <cstdarg>
#include <cstdio>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string>
#include <utility>
#include <vector>

#include "addon.h"

namespace omnilive {
namespace {

// pocketsphinx reports errors only through its log. We replace the logger (which
// also silences the INFO chatter) and keep this call's error lines per thread, so a
// worker can turn them into its rejection message. Not addon state: a scratch slot.
thread_local std::string t_log_errors;

void LogCallback(void* /*user_data*/, err_lvl_t level, const char* fmt, ...) {
  if (level < ERR_ERROR) return;
  char line[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  // E_FATAL calls exit() right after logging; the log line is the only clue left.
  if (level == ERR_FATAL) std::fprintf(stderr, "omnilive_native: pocketsphinx fatal: %s\n", text.c_str());
  if (t_log_errors.size() < 1024) t_log_errors += (t_log_errors.empty() ? "" : "; ") + text;
}

std::string FailureMessage(const char* what) {
  std::string msg = std::string("pocketsphinx: ") + what;
  if (!t_log_errors.empty()) msg += ": " + t_log_errors;
  t_log_errors.clear();
  return msg;
}

Napi::Value Rejected(Napi::Env env, const char* message) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(Napi::Error::New(env, message).Value());
  return deferred.Promise();
}

void FreeDecoder(ps_decoder_t* ps) {
  ps_free(ps);
#ifdef __GLIBC__
  // A decoder is ~100 MB of small blocks allocated on a pool thread; glibc keeps them
  // in that thread's arena after free unless asked to give them back.
  malloc_trim(0);
#endif
}

// ps_free of a loaded model takes ~20 ms: too long for the event loop.
class FreeWorker : public Napi::AsyncWorker {
 public:
  FreeWorker(Napi::Env env, ps_decoder_t* ps) : Napi::AsyncWorker(env, "omnilive:pocketsphinx:free"), ps_(ps) {}
  ~FreeWorker() override {
    if (ps_ != nullptr) FreeDecoder(ps_);  // cancelled before it ran
  }

 protected:
  void Execute() override {
    FreeDecoder(ps_);
    ps_ = nullptr;
  }

 private:
  ps_decoder_t* ps_;
};

// ps_init reads the model (~0.2 s), so it runs on the thread pool.
class CreateWorker : public Napi::AsyncWorker {
 public:
  CreateWorker(Napi::Env env, std::string hmm, std::string dict, std::string lm, std::string rate)
      : Napi::AsyncWorker(env, "omnilive:pocketsphinx:create"),
        deferred_(Napi::Promise::Deferred::New(env)),
        hmm_(std::move(hmm)), dict_(std::move(dict)), lm_(std::move(lm)), rate_(std::move(rate)) {}

  // OnOK never runs if the environment goes away first; don't leak the decoder then.
  ~CreateWorker() override {
    if (ps_ != nullptr) FreeDecoder(ps_);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    t_log_errors.clear();
    cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm_.c_str(), "-dict", dict_.c_str(),
                                   "-lm", lm_.c_str(), "-samprate", rate_.c_str(), nullptr);
    if (config == nullptr) return SetError(FailureMessage("invalid configuration"));
    ps_ = ps_init(config);
    cmd_ln_free_r(config);  // the decoder keeps its own reference
    if (ps_ == nullptr) return SetError(FailureMessage("failed to initialize decoder"));
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::FunctionReference& ctor = env.GetInstanceData<OmniliveAddon>()->pocketsphinx_decoder;
    Napi::Object decoder = ctor.New({Napi::External<ps_decoder_t>::New(env, ps_)});
    ps_ = nullptr;  // owned by the JS object now
    deferred_.Resolve(decoder);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string hmm_, dict_, lm_, rate_;
  ps_decoder_t* ps_ = nullptr;
};

}  // namespace

// One call on an existing decoder. Marks the decoder busy for its lifetime and holds a
// reference to the JS object so it cannot be collected while the thread uses ps_.
class DecoderCall : public Napi::AsyncWorker {
 public:
  enum class Kind { kStart, kProcess, kEnd };

  DecoderCall(PocketsphinxDecoder* owner, Kind kind, std::vector<int16_t> samples = {})
      : Napi::AsyncWorker(owner->Env(), "omnilive:pocketsphinx:call"),
        owner_(owner),
        self_(Napi::Persistent(owner->Value())),
        deferred_(Napi::Promise::Deferred::New(owner->Env())),
        kind_(kind),
        ps_(owner->ps_),
        samples_(std::move(samples)) {
    owner_->busy_ = true;
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    t_log_errors.clear();
    switch (kind_) {
      case Kind::kStart:
        if (ps_start_utt(ps_) < 0) return SetError(FailureMessage("start_utt failed"));
        break;
      case Kind::kProcess:
        if (!samples_.empty() && ps_process_raw(ps_, samples_.data(), samples_.size(), FALSE, FALSE) < 0) {
          return SetError(FailureMessage("process_raw failed"));
        }
        in_speech_ = ps_get_in_speech(ps_) != 0;
        ReadHypothesis();
        break;
      case Kind::kEnd:
        if (ps_end_utt(ps_) < 0) return SetError(FailureMessage("end_utt failed"));
        ReadHypothesis();
        break;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Finish(true);
    if (kind_ == Kind::kStart) return deferred_.Resolve(env.Undefined());
    Napi::Object result = Napi::Object::New(env);
    result.Set("hypothesis", Napi::String::New(env, hypothesis_));
    if (kind_ == Kind::kProcess) result.Set("inSpeech", Napi::Boolean::New(env, in_speech_));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    Finish(false);
    deferred_.Reject(error.Value());
  }

 private:
  void ReadHypothesis() {
    const char* hyp = ps_get_hyp(ps_, nullptr);
    hypothesis_ = hyp != nullptr ? hyp : "";
  }

  // Main thread, after Execute: update state, and do a free that close() deferred.
  void Finish(bool ok) {
    owner_->busy_ = false;
    if (kind_ == Kind::kStart && ok) owner_->in_utterance_ = true;
    if (kind_ == Kind::kEnd) owner_->in_utterance_ = false;
    if (owner_->closed_) owner_->Release();
  }

  PocketsphinxDecoder* owner_;
  Napi::ObjectReference self_;
  Napi::Promise::Deferred deferred_;
  Kind kind_;
  ps_decoder_t* ps_;
  std::vector<int16_t> samples_;  // a copy: JS may reuse its buffer right away
  std::string hypothesis_;
  bool in_speech_ = false;
};

Napi::Function PocketsphinxDecoder::Define(Napi::Env env) {
  // sphinxbase logging is process-wide; every environment installs the same settings.
  // Equivalent of `-logfn /dev/null` without reopening a global FILE* per ps_init
  // (racy across threads); the null logfp also mutes ps_init's config dump.
  err_set_callback(LogCallback, nullptr);
  err_set_logfp(nullptr);
  return DefineClass(env, "PocketsphinxDecoder",
                     {
                         StaticMethod<&PocketsphinxDecoder::CreateDecoder>("createDecoder"),
                         InstanceMethod<&PocketsphinxDecoder::Start>("start"),
                         InstanceMethod<&PocketsphinxDecoder::Process>("process"),
                         InstanceMethod<&PocketsphinxDecoder::End>("end"),
                         InstanceMethod<&PocketsphinxDecoder::Close>("close"),
                         InstanceAccessor<&PocketsphinxDecoder::Closed>("closed"),
                     });
}

PocketsphinxDecoder::PocketsphinxDecoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PocketsphinxDecoder>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "use PocketsphinxDecoder.createDecoder(options)");
  }
  ps_ = info[0].As<Napi::External<ps_decoder_t>>().Data();
}

PocketsphinxDecoder::~PocketsphinxDecoder() {
  // Collected objects are never busy (the running call holds a reference), except at
  // environment teardown, where a thread may still be inside ps_: leak rather than crash.
  if (!busy_ && ps_ != nullptr) FreeDecoder(ps_);  // only if close() was never called
}

// options: { hmm, dict, lm: string, sampleRate: number }, validated by native/index.ts.
Napi::Value PocketsphinxDecoder::CreateDecoder(const Napi::CallbackInfo& info) {
  Napi::Object options = info[0].As<Napi::Object>();
  auto str = [&](const char* key) { return options.Get(key).As<Napi::String>().Utf8Value(); };
  std::string rate = std::to_string(options.Get("sampleRate").As<Napi::Number>().Int32Value());
  auto* worker = new CreateWorker(info.Env(), str("hmm"), str("dict"), str("lm"), rate);
  worker->Queue();
  return worker->Promise();
}

Napi::Value PocketsphinxDecoder::RejectIfUnavailable(Napi::Env env, bool need_utterance, bool need_idle) {
  if (closed_) return Rejected(env, "PocketsphinxDecoder is closed");
  if (busy_) return Rejected(env, "PocketsphinxDecoder: a previous call is still running (await each call)");
  if (need_utterance && !in_utterance_) return Rejected(env, "PocketsphinxDecoder: no utterance started (call start() first)");
  if (need_idle && in_utterance_) return Rejected(env, "PocketsphinxDecoder: utterance already started (call end() first)");
  return Napi::Value();
}

Napi::Value PocketsphinxDecoder::Start(const Napi::CallbackInfo& info) {
  Napi::Value rejected = RejectIfUnavailable(info.Env(), false, true);
  if (!rejected.IsEmpty()) return rejected;
  auto* call = new DecoderCall(this, DecoderCall::Kind::kStart);
  call->Queue();
  return call->Promise();
}

Napi::Value PocketsphinxDecoder::Process(const Napi::CallbackInfo& info) {
  Napi::Value rejected = RejectIfUnavailable(info.Env(), true, false);
  if (!rejected.IsEmpty()) return rejected;
  auto pcm = info[0].As<Napi::TypedArrayOf<int16_t>>();
  auto* call = new DecoderCall(this, DecoderCall::Kind::kProcess,
                               std::vector<int16_t>(pcm.Data(), pcm.Data() + pcm.ElementLength()));
  call->Queue();
  return call->Promise();
}

Napi::Value PocketsphinxDecoder::End(const Napi::CallbackInfo& info) {
  Napi::Value rejected = RejectIfUnavailable(info.Env(), true, false);
  if (!rejected.IsEmpty()) return rejected;
  auto* call = new DecoderCall(this, DecoderCall::Kind::kEnd);
  call->Queue();
  return call->Promise();
}

// Idempotent. The free runs on the thread pool; while a call runs, it is left to that
// call's completion.
void PocketsphinxDecoder::Close(const Napi::CallbackInfo& /*info*/) {
  closed_ = true;
  if (!busy_) Release();
}

Napi::Value PocketsphinxDecoder::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

void PocketsphinxDecoder::Release() {
  if (ps_ == nullptr) return;
  (new FreeWorker(Env(), ps_))->Queue();
  ps_ = nullptr;
}

}  // namespace omnilive
