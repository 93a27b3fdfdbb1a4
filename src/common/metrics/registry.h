// A process's metrics: families of counters, gauges and histograms, each with a fixed set of
// label names, rendered for a Prometheus scrape. Families are made once (at start-up, or on
// first use through a function-local static) and live as long as the registry.
//
// Hot paths hold a series (`family.with({"process_pause"})` returns a stable reference) and
// update it with atomics; finding a series takes the family's lock and compares a few strings,
// never allocating once the series exists.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/metric_types.h"
#include "common/metrics/text_format.h"

namespace faultline::metrics {

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // A histogram's bucket bounds (empty for other types).
  const std::vector<double>& bounds() const { return bounds_; }
  virtual FamilySnapshot collect() const = 0;

 protected:
  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
};

template <typename T>
class Family : public FamilyBase {
 public:
  // Label values can be anything, but every distinct combination is a series Prometheus keeps:
  // past this many, new combinations all land in one series whose values are "other".
  static constexpr size_t kMaxSeries = 256;

  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make, std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        make_(std::move(make)) {
    bounds_ = std::move(bounds);
    if (label_names_.empty()) with({});  // an unlabelled metric reads 0 before its first use
  }

  // The series for these label values (one per label name, in order), made on first use.
  // The reference stays valid for the family's life. A wrong number of values is a
  // programming error and throws std::invalid_argument.
  T& with(std::initializer_list<std::string_view> values);
  // The one series of an unlabelled family.
  T& get() { return with({}); }

  FamilySnapshot collect() const override;

 private:
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<T> metric;
  };
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::vector<Series> series_;  // grows only; the metrics themselves never move
};

class Registry;

// A gauge read at scrape time (e.g. the injectors connected now); unregistered when this
// handle is destroyed, after which the read function is never called again.
class CallbackGauge {
 public:
  CallbackGauge() = default;
  CallbackGauge(Registry* registry, std::string name, uint64_t id)
      : registry_(registry), name_(std::move(name)), id_(id) {}
  CallbackGauge(CallbackGauge&& o) noexcept { *this = std::move(o); }
  CallbackGauge& operator=(CallbackGauge&& o) noexcept;
  ~CallbackGauge() { reset(); }
  void reset();

 private:
  Registry* registry_ = nullptr;
  std::string name_;
  uint64_t id_ = 0;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Asking again for a name with the same type and labels returns the same family; a name
  // already used differently (or an invalid name) throws std::invalid_argument.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<double> bounds,
                               std::vector<std::string> label_names = {});
  // Several callbacks may share a name (e.g. two controllers in one process): the gauge is
  // their sum. `read` runs under the registry's lock and must not register metrics.
  [[nodiscard]] CallbackGauge gauge_callback(const std::string& name, const std::string& help,
                                             std::function<double()> read);

  // Every family, sorted by name.
  std::vector<FamilySnapshot> collect() const;
  std::string render() const { return render_text(collect()); }

 private:
  friend class CallbackGauge;
  template <typename T>
  Family<T>& add(const std::string& name, const std::string& help, MetricType type,
                 std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make,
                 std::vector<double> bounds = {});
  void check_name_free(const std::string& name, bool callback) const;
  void remove_callback(const std::string& name, uint64_t id);

  struct Callbacks {
    std::string help;
    std::map<uint64_t, std::function<double()>> reads;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::map<std::string, Callbacks> callbacks_;
  uint64_t next_id_ = 1;
};

// The registry faultline's daemons serve on --metrics-listen.
Registry& default_registry();

}  // namespace faultline::metrics
