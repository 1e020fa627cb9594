// CPU audio kernels: band-limited resampling and Whisper's log-mel spectrogram. Pure
// functions, no N-API; sizes and rates were checked by the callers.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace omnilive {
namespace kernels {

// ---- Resampling: Kaiser-windowed sinc (see audio_kernels.cc for the parameters).
// Output sample j sits at input position j·from/to; samples outside the input are zero.
size_t ResampledLength(size_t n, int from_rate, int to_rate);  // ceil(n · to / from)
// `input` as float; writes ResampledLength(n, ...) floats.
void Resample(const float* input, size_t n, int from_rate, int to_rate, float* output);

// ---- Whisper log-mel spectrogram (openai/whisper audio.py: log_mel_spectrogram).
constexpr int kWhisperSampleRate = 16000;
constexpr int kWhisperNfft = 400;
constexpr int kWhisperHop = 160;
constexpr int kWhisperBins = kWhisperNfft / 2 + 1;  // 201

// librosa.filters.mel(sr=16000, n_fft=400, n_mels) (Slaney scale and norm), float32,
// row-major [n_mels × 201].
std::vector<float> MelFilters(int n_mels);

// Frames of a signal of n samples: floor(n / 160) (torch.stft's 1 + n/160, last dropped).
inline size_t LogMelFrames(size_t n) { return n / kWhisperHop; }

// samples: n floats at 16 kHz (n > 200, for the reflect padding). Writes
// [n_mels × LogMelFrames(n)] floats, mel-major.
void LogMelSpectrogram(const float* samples, size_t n, int n_mels, float* out);

// Complex FFT of any size whose factors are 2, 3, 4 and 5 (Stockham autosort, mixed radix).
class Fft {
 public:
  explicit Fft(int n);
  int size() const { return n_; }
  // In place; `work` must hold size() values.
  void Forward(std::complex<double>* data, std::complex<double>* work) const;

 private:
  struct Stage {
    int radix;
    int m;       // sub-length after this stage
    int stride;  // s
    std::vector<std::complex<double>> twiddles;  // [p][u] = ω_{radix·m}^{u·p}, u = 1..radix−1
    std::vector<std::complex<double>> roots;     // ω_radix^k, k = 0..radix−1
  };
  int n_;
  std::vector<Stage> stages_;
};

}  // namespace kernels
}  // namespace omnilive
