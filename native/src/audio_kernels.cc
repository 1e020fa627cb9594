#include "audio_kernels.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace omnilive {
namespace kernels {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---- resampler design ----
// Kaiser-windowed sinc: cutoff at 0.92 × the lower Nyquist, 32 zero crossings each side,
// β = 8.6 (about −86 dB stopband). Taps are normalized to sum 1 (unit DC gain).
constexpr double kRolloff = 0.92;
constexpr double kZeroCrossings = 32;
constexpr double kKaiserBeta = 8.6;
// Rational ratios with up to this many table entries (phases × taps) get an exact
// polyphase table; others use the kernel sampled at 1/512 input sample, interpolated.
constexpr size_t kMaxPolyphaseEntries = size_t{1} << 20;
constexpr int kFineSteps = 512;

double BesselI0(double x) {
  double sum = 1, term = 1;
  const double q = x * x / 4;
  for (int k = 1; k < 200; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

struct SincDesign {
  double fc;    // cutoff, cycles per input sample
  double span;  // half-width in input samples
  int half;     // taps each side: ceil(span)
  double i0_beta;

  SincDesign(int from, int to) {
    fc = 0.5 * kRolloff * std::min(1.0, static_cast<double>(to) / from);
    span = kZeroCrossings / (2 * fc);
    half = static_cast<int>(std::ceil(span));
    i0_beta = BesselI0(kKaiserBeta);
  }

  // Kernel value at distance d (input samples) from the output position.
  double operator()(double d) const {
    const double t = d / span;
    if (t <= -1 || t >= 1) return 0;
    const double x = 2 * fc * d;
    const double sinc = x == 0 ? 1.0 : std::sin(kPi * x) / (kPi * x);
    return 2 * fc * sinc * BesselI0(kKaiserBeta * std::sqrt(1 - t * t)) / i0_beta;
  }
};

// Also compiled for AVX-512 and AVX2, picked at load time (GNU ifunc).
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
float Dot(const float* a, const float* b, int n) {
  float acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

inline std::complex<double> Mul(std::complex<double> a, std::complex<double> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// ---- Slaney mel scale (librosa's default, htk=False) ----
constexpr double kFSp = 200.0 / 3;
constexpr double kMinLogHz = 1000;
constexpr double kMinLogMel = kMinLogHz / kFSp;  // 15

double HzToMel(double f) {
  const double logstep = std::log(6.4) / 27.0;
  return f >= kMinLogHz ? kMinLogMel + std::log(f / kMinLogHz) / logstep : f / kFSp;
}

double MelToHz(double m) {
  const double logstep = std::log(6.4) / 27.0;
  return m >= kMinLogMel ? kMinLogHz * std::exp(logstep * (m - kMinLogMel)) : kFSp * m;
}

}  // namespace

// ---- FFT ----

Fft::Fft(int n) : n_(n) {
  std::vector<int> radices;
  int rest = n;
  for (int r : {4, 2, 3, 5}) {
    while (rest % r == 0) {
      radices.push_back(r);
      rest /= r;
    }
  }
  if (rest != 1 || n < 1) throw std::invalid_argument("Fft: size must factor into 2, 3 and 5");
  int len = n, stride = 1;
  for (int r : radices) {
    Stage st;
    st.radix = r;
    st.m = len / r;
    st.stride = stride;
    st.twiddles.resize(static_cast<size_t>(st.m) * (r - 1));
    for (int k = 0; k < r; ++k) st.roots.emplace_back(std::cos(-2 * kPi * k / r), std::sin(-2 * kPi * k / r));
    for (int p = 0; p < st.m; ++p) {
      for (int u = 1; u < r; ++u) {
        const double angle = -2 * kPi * u * p / len;
        st.twiddles[p * (r - 1) + (u - 1)] = {std::cos(angle), std::sin(angle)};
      }
    }
    stages_.push_back(std::move(st));
    len /= r;
    stride *= r;
  }
}

namespace {

using Complex = std::complex<double>;

inline Complex MinusI(Complex a) { return {a.imag(), -a.real()}; }  // −i·a

// One Stockham stage of radix R (see Fft::Forward): for p < m, q < s, reads the R inputs
// x[q + s(p + k·m)] and writes y[q + s(R·p + u)].
template <int R>
void RadixStage(const Complex* x, Complex* y, int m, int s, const Complex* twiddles, const Complex* roots) {
  const size_t step = static_cast<size_t>(s) * m;  // between inputs k and k+1
  for (int p = 0; p < m; ++p) {
    const Complex* tw = twiddles + p * (R - 1);
    for (int q = 0; q < s; ++q) {
      const Complex* in = x + q + static_cast<size_t>(s) * p;
      Complex* out = y + q + static_cast<size_t>(s) * R * p;
      Complex b[R];
      if constexpr (R == 2) {
        b[0] = in[0] + in[step];
        b[1] = in[0] - in[step];
      } else if constexpr (R == 4) {
        const Complex a0 = in[0], a1 = in[step], a2 = in[2 * step], a3 = in[3 * step];
        const Complex t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3, t3 = MinusI(a1 - a3);
        b[0] = t0 + t2;
        b[1] = t1 + t3;
        b[2] = t0 - t2;
        b[3] = t1 - t3;
      } else if constexpr (R == 5) {
        // roots[k] = ω_5^k = cos(2πk/5) − i·sin(2πk/5)
        const double c1 = roots[1].real(), c2 = roots[2].real(), s1 = -roots[1].imag(), s2 = -roots[2].imag();
        const Complex a0 = in[0], a1 = in[step], a2 = in[2 * step], a3 = in[3 * step], a4 = in[4 * step];
        const Complex t1 = a1 + a4, t2 = a2 + a3, t3 = a1 - a4, t4 = a2 - a3;
        const Complex m1 = a0 + c1 * t1 + c2 * t2;
        const Complex m2 = a0 + c2 * t1 + c1 * t2;
        const Complex n1 = MinusI(s1 * t3 + s2 * t4);
        const Complex n2 = MinusI(s2 * t3 - s1 * t4);
        b[0] = a0 + t1 + t2;
        b[1] = m1 + n1;
        b[4] = m1 - n1;
        b[2] = m2 + n2;
        b[3] = m2 - n2;
      } else {  // direct small DFT (radix 3)
        for (int u = 0; u < R; ++u) {
          b[u] = in[0];
          for (int k = 1; k < R; ++k) b[u] += Mul(in[k * step], roots[(u * k) % R]);
        }
      }
      out[0] = b[0];
      for (int u = 1; u < R; ++u) out[u * s] = Mul(b[u], tw[u - 1]);
    }
  }
}

}  // namespace

// Decimation in frequency, Stockham order: stage (radix r, length n = r·m, stride s) maps
// x[q + s(p + k·m)] to y[q + s(r·p + u)] = ω_n^{u·p} · Σ_k x[...] ω_r^{u·k}.
void Fft::Forward(std::complex<double>* data, std::complex<double>* work) const {
  Complex* x = data;
  Complex* y = work;
  for (const Stage& st : stages_) {
    const Complex* tw = st.twiddles.data();
    const Complex* roots = st.roots.data();
    switch (st.radix) {
      case 2:
        RadixStage<2>(x, y, st.m, st.stride, tw, roots);
        break;
      case 3:
        RadixStage<3>(x, y, st.m, st.stride, tw, roots);
        break;
      case 4:
        RadixStage<4>(x, y, st.m, st.stride, tw, roots);
        break;
      default:
        RadixStage<5>(x, y, st.m, st.stride, tw, roots);
        break;
    }
    std::swap(x, y);
  }
  if (x != data) std::copy(x, x + n_, data);
}

// ---- resampling ----

size_t ResampledLength(size_t n, int from_rate, int to_rate) {
  return (n * static_cast<uint64_t>(to_rate) + from_rate - 1) / from_rate;
}

void Resample(const float* input, size_t n, int from_rate, int to_rate, float* output) {
  const size_t out_len = ResampledLength(n, from_rate, to_rate);
  const SincDesign design(from_rate, to_rate);
  const int half = design.half;
  const int taps = 2 * half;
  const uint64_t g = std::gcd(from_rate, to_rate);
  const uint64_t L = to_rate / g;    // phases
  const uint64_t M = from_rate / g;  // input step per output, in 1/L units

  // Zero-padded copy: input index k lives at padded[k + half]; output j reads
  // padded[base + 1 ... base + taps].
  std::vector<float> padded(n + 2 * static_cast<size_t>(half) + 1, 0.0f);
  std::copy(input, input + n, padded.begin() + half);

  // Taps of the phase with fractional position frac (0 ≤ frac < 1), normalized.
  std::vector<double> h(taps);
  auto fill_taps = [&](double frac, auto&& kernel, float* out) {
    double sum = 0;
    for (int i = 0; i < taps; ++i) {
      h[i] = kernel(frac + half - 1 - i);
      sum += h[i];
    }
    for (int i = 0; i < taps; ++i) out[i] = static_cast<float>(h[i] / sum);
  };

  if (L * taps <= kMaxPolyphaseEntries) {
    std::vector<float> table(L * taps);
    for (uint64_t ph = 0; ph < L; ++ph) {
      fill_taps(static_cast<double>(ph) / L, design, &table[ph * taps]);
    }
    uint64_t pos = 0;  // j·M
    for (size_t j = 0; j < out_len; ++j, pos += M) {
      const uint64_t base = pos / L;
      const uint64_t ph = pos % L;
      output[j] = Dot(&padded[base + 1], &table[ph * taps], taps);
    }
    return;
  }

  // Fine table of the kernel for d ≥ 0, linear interpolation between entries.
  const int fine_len = static_cast<int>(std::ceil(design.span * kFineSteps)) + 2;
  std::vector<double> fine(fine_len);
  for (int i = 0; i < fine_len; ++i) fine[i] = design(static_cast<double>(i) / kFineSteps);
  auto interpolated = [&](double d) {
    const double p = std::fabs(d) * kFineSteps;
    const int i = static_cast<int>(p);
    if (i + 1 >= fine_len) return 0.0;
    const double t = p - i;
    return fine[i] * (1 - t) + fine[i + 1] * t;
  };
  std::vector<float> row(taps);
  uint64_t pos = 0;
  for (size_t j = 0; j < out_len; ++j, pos += M) {
    const uint64_t base = pos / L;
    fill_taps(static_cast<double>(pos % L) / L, interpolated, row.data());
    output[j] = Dot(&padded[base + 1], row.data(), taps);
  }
}

// ---- log-mel ----

std::vector<float> MelFilters(int n_mels) {
  const double fmax = kWhisperSampleRate / 2.0;
  const int points = n_mels + 2;
  // numpy.linspace(hz_to_mel(0), hz_to_mel(fmax), n_mels + 2), mapped back to Hz.
  std::vector<double> mel_f(points);
  const double top = HzToMel(fmax);
  const double step = top / (points - 1);
  for (int i = 0; i < points; ++i) mel_f[i] = MelToHz(i == points - 1 ? top : i * step);
  // numpy.fft.rfftfreq(400, 1/16000)
  const double bin_hz = 1.0 / (kWhisperNfft * (1.0 / kWhisperSampleRate));
  std::vector<float> weights(static_cast<size_t>(n_mels) * kWhisperBins);
  for (int m = 0; m < n_mels; ++m) {
    const double lower_width = mel_f[m + 1] - mel_f[m];
    const double upper_width = mel_f[m + 2] - mel_f[m + 1];
    const double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
    for (int k = 0; k < kWhisperBins; ++k) {
      const double f = k * bin_hz;
      const double lower = -(mel_f[m] - f) / lower_width;
      const double upper = (mel_f[m + 2] - f) / upper_width;
      // librosa stores the triangle in float32 first, then scales it by enorm.
      const float tri = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      weights[static_cast<size_t>(m) * kWhisperBins + k] = static_cast<float>(tri * enorm);
    }
  }
  return weights;
}

void LogMelSpectrogram(const float* samples, size_t n, int n_mels, float* out) {
  using C = std::complex<double>;
  constexpr int kHalf = kWhisperNfft / 2;  // 200: complex FFT size, and the reflect pad
  const size_t frames = LogMelFrames(n);
  if (frames == 0) return;

  const std::vector<float> filters = MelFilters(n_mels);
  std::vector<int> first(n_mels), last(n_mels);  // non-zero range of each filter
  for (int m = 0; m < n_mels; ++m) {
    const float* f = &filters[static_cast<size_t>(m) * kWhisperBins];
    int a = 0, b = kWhisperBins - 1;
    while (a < kWhisperBins && f[a] == 0) ++a;
    while (b > a && f[b] == 0) --b;
    first[m] = a;
    last[m] = b;
  }

  double window[kWhisperNfft];  // torch.hann_window(400), periodic
  for (int i = 0; i < kWhisperNfft; ++i) window[i] = 0.5 - 0.5 * std::cos(2 * kPi * i / kWhisperNfft);
  C twiddle[kHalf + 1];  // ω_400^k for the real-FFT split
  for (int k = 0; k <= kHalf; ++k) {
    const double angle = -2 * kPi * k / kWhisperNfft;
    twiddle[k] = {std::cos(angle), std::sin(angle)};
  }

  const Fft fft(kHalf);
  std::vector<C> z(kHalf), work(kHalf);
  double frame[kWhisperNfft];
  double power[kWhisperBins];
  std::vector<double> logs(static_cast<size_t>(n_mels) * frames);
  double log_max = -1e300;
  const long long len = static_cast<long long>(n);

  for (size_t t = 0; t < frames; ++t) {
    // torch.stft(center=True, pad_mode="reflect"): sample i of the frame is input index
    // t·160 − 200 + i, reflected at both ends without repeating the edge sample.
    const long long start = static_cast<long long>(t) * kWhisperHop - kHalf;
    if (start >= 0 && start + kWhisperNfft <= len) {
      for (int i = 0; i < kWhisperNfft; ++i) frame[i] = samples[start + i];
    } else {
      for (int i = 0; i < kWhisperNfft; ++i) {
        long long j = start + i;
        if (j < 0) j = -j;
        if (j >= len) j = 2 * (len - 1) - j;
        frame[i] = samples[j];
      }
    }
    // Real 400-point DFT from one complex 200-point FFT of (even, odd) pairs.
    for (int i = 0; i < kHalf; ++i) z[i] = {frame[2 * i] * window[2 * i], frame[2 * i + 1] * window[2 * i + 1]};
    fft.Forward(z.data(), work.data());
    for (int k = 0; k <= kHalf; ++k) {
      const C zk = z[k % kHalf];
      const C zc = std::conj(z[(kHalf - k) % kHalf]);
      const C even = (zk + zc) * 0.5;
      const C diff = zk - zc;
      const C odd = {diff.imag() * 0.5, -diff.real() * 0.5};  // (zk − zc) / 2i
      const C x = even + Mul(twiddle[k], odd);
      power[k] = x.real() * x.real() + x.imag() * x.imag();
    }
    for (int m = 0; m < n_mels; ++m) {
      const float* f = &filters[static_cast<size_t>(m) * kWhisperBins];
      double s = 0;
      for (int k = first[m]; k <= last[m]; ++k) s += f[k] * power[k];
      // float log10, as Whisper (torch, float32) computes it; output is float anyway.
      const double l = std::log10(std::max(static_cast<float>(s), 1e-10f));
      logs[static_cast<size_t>(m) * frames + t] = l;
      log_max = std::max(log_max, l);
    }
  }
  const double floor_value = log_max - 8.0;
  for (size_t i = 0; i < logs.size(); ++i) out[i] = static_cast<float>((std::max(logs[i], floor_value) + 4.0) / 4.0);
}

}  // namespace kernels
}  // namespace omnilive
