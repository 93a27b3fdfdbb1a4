#include "injector/network/impairment.h"

#include <cmath>

#include "fmt/format.h"

namespace faultline::injector {

namespace {

// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9):
// turning one correlated uniform draw into a normal one keeps the correlation meaningful.
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671010029816e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  p = std::min(std::max(p, 1e-12), 1 - 1e-12);
  if (p < 0.02425) {
    double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normal_quantile(1 - p);
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// Pareto with shape 3, shifted and scaled to mean 0 and standard deviation 1 (netem's table
// is a Pareto of the same kind): a long tail of late packets.
double pareto_standard(double u) {
  constexpr double alpha = 3.0;
  const double mean = alpha / (alpha - 1);
  const double sd = std::sqrt(alpha / ((alpha - 1) * (alpha - 1) * (alpha - 2)));
  double x = std::pow(1 - std::min(u, 1 - 1e-12), -1 / alpha);
  return (x - mean) / sd;
}

}  // namespace

double distribution_value(const std::string& distribution, double u) {
  if (distribution == "normal") return normal_quantile(u);
  if (distribution == "pareto") return pareto_standard(u);
  return 2 * u - 1;
}

bool ImpairmentSpec::any() const {
  return delay.count() > 0 || jitter.count() > 0 || loss > 0 || gilbert_elliott || duplicate > 0 ||
         corrupt > 0 || reorder > 0;
}

std::string ImpairmentSpec::describe() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  auto ms = [](std::chrono::nanoseconds d) { return fmt::format("{:g}ms", d.count() / 1e6); };
  auto pct = [](double f) { return fmt::format("{:g}%", f * 100); };
  if (delay.count() > 0 || jitter.count() > 0)
    add("delay " + ms(delay) + (jitter.count() > 0 ? " ± " + ms(jitter) + " " + distribution : ""));
  if (gilbert_elliott)
    add(fmt::format("loss gilbert-elliott p={} r={} bad={} good={}", pct(ge_p), pct(ge_r),
                    pct(ge_loss_bad), pct(ge_loss_good)));
  else if (loss > 0)
    add("loss " + pct(loss));
  if (duplicate > 0) add("duplicate " + pct(duplicate));
  if (corrupt > 0) add("corrupt " + pct(corrupt));
  if (reorder > 0)
    add("reorder " + pct(reorder) + (reorder_gap > 0 ? fmt::format(" gap {}", reorder_gap) : ""));
  return out.empty() ? "nothing" : out;
}

Impairment::Impairment(ImpairmentSpec spec, uint64_t seed) : spec_(std::move(spec)), rng_(seed) {}

double Impairment::Correlated::draw(std::mt19937_64& rng, double correlation) {
  double fresh = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  last = correlation <= 0 ? fresh : (1 - correlation) * fresh + correlation * last;
  return last;
}

bool Impairment::lose() {
  if (spec_.gilbert_elliott) {
    // Transition first, then lose with the probability of the state we are in.
    double t = uniform01();
    ge_bad_ = ge_bad_ ? !(t < spec_.ge_r) : t < spec_.ge_p;
    return uniform01() < (ge_bad_ ? spec_.ge_loss_bad : spec_.ge_loss_good);
  }
  return spec_.loss > 0 && loss_c_.draw(rng_, spec_.loss_correlation) < spec_.loss;
}

std::chrono::nanoseconds Impairment::delay_sample() {
  double base = static_cast<double>(spec_.delay.count());
  double spread = static_cast<double>(spec_.jitter.count());
  if (spread <= 0) return spec_.delay;
  double u = delay_c_.draw(rng_, spec_.delay_correlation);
  // netem's paretonormal: a quarter normal, three quarters Pareto, both unit spread.
  double z = spec_.distribution == "paretonormal"
                 ? 0.25 * normal_quantile(u) + 0.75 * pareto_standard(uniform01())
                 : distribution_value(spec_.distribution, u);
  return std::chrono::nanoseconds(static_cast<int64_t>(std::max(0.0, base + z * spread)));
}

PacketFate Impairment::next() {
  PacketFate f;
  if (lose()) {
    f.drop = true;
    return f;
  }
  f.duplicate =
      spec_.duplicate > 0 && dup_c_.draw(rng_, spec_.duplicate_correlation) < spec_.duplicate;
  f.corrupt = spec_.corrupt > 0 && corrupt_c_.draw(rng_, spec_.corrupt_correlation) < spec_.corrupt;
  bool send_now = false;
  if (spec_.reorder > 0) {
    bool eligible = spec_.reorder_gap == 0 || since_reorder_ + 1 >= spec_.reorder_gap;
    if (eligible && reorder_c_.draw(rng_, spec_.reorder_correlation) < spec_.reorder) {
      send_now = true;
      since_reorder_ = 0;
    } else {
      ++since_reorder_;
    }
  }
  f.hold = send_now ? std::chrono::nanoseconds(0) : delay_sample();
  return f;
}

}  // namespace faultline::injector
