#include "common/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace faultline::metrics {

// --- metric types ----------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // The first bound >= value: Prometheus buckets are "less than or equal".
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

// --- families --------------------------------------------------------------------------------

template <typename T>
T& Family<T>::with(std::initializer_list<std::string_view> values) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " has " + std::to_string(label_names_.size()) +
                                " label(s), given " + std::to_string(values.size()) + " value(s)");
  std::lock_guard lock(mu_);
  auto find = [&](auto first) -> T* {
    for (auto& s : series_)
      if (std::equal(s.values.begin(), s.values.end(), first)) return s.metric.get();
    return nullptr;
  };
  if (T* m = find(values.begin())) return *m;
  std::vector<std::string> key(values.begin(), values.end());
  if (series_.size() >= kMaxSeries) {
    key.assign(label_names_.size(), "other");
    if (T* m = find(key.begin())) return *m;
  }
  series_.push_back({std::move(key), make_()});
  return *series_.back().metric;
}

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

void add_samples(const Counter& c, const Labels& labels, FamilySnapshot& out) {
  out.samples.push_back({"", labels, c.value()});
}

void add_samples(const Gauge& g, const Labels& labels, FamilySnapshot& out) {
  out.samples.push_back({"", labels, g.value()});
}

void add_samples(const Histogram& h, const Labels& labels, FamilySnapshot& out) {
  Histogram::Snapshot s = h.snapshot();
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    Labels with_le = labels;
    with_le.emplace_back("le",
                         i < h.bounds().size() ? format_value(h.bounds()[i]) : std::string("+Inf"));
    out.samples.push_back({"_bucket", std::move(with_le), static_cast<double>(s.cumulative[i])});
  }
  out.samples.push_back({"_sum", labels, s.sum});
  out.samples.push_back({"_count", labels, static_cast<double>(s.count)});
}

}  // namespace

template <typename T>
FamilySnapshot Family<T>::collect() const {
  FamilySnapshot out{name_, help_, type_, {}};
  std::lock_guard lock(mu_);
  for (const auto& s : series_) {
    Labels labels;
    for (size_t i = 0; i < label_names_.size(); ++i)
      labels.emplace_back(label_names_[i], s.values[i]);
    add_samples(*s.metric, labels, out);
  }
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- registry --------------------------------------------------------------------------------

void Registry::check_name_free(const std::string& name, bool callback) const {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
  if (families_.count(name) || (!callback && callbacks_.count(name)))
    throw std::invalid_argument("metric " + name +
                                " is already registered with another type, labels or buckets");
}

template <typename T>
Family<T>& Registry::add(const std::string& name, const std::string& help, MetricType type,
                         std::vector<std::string> label_names,
                         std::function<std::unique_ptr<T>()> make, std::vector<double> bounds) {
  for (const auto& l : label_names)
    if (!valid_label_name(l) || (type == MetricType::kHistogram && l == "le"))
      throw std::invalid_argument("metric " + name + ": invalid label name \"" + l + "\"");
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<Family<T>*>(it->second.get());
    if (existing && existing->type() == type && existing->label_names() == label_names &&
        existing->bounds() == bounds)
      return *existing;
  }
  check_name_free(name, false);
  auto family = std::make_unique<Family<T>>(name, help, type, std::move(label_names),
                                            std::move(make), std::move(bounds));
  Family<T>& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return add<Counter>(name, help, MetricType::kCounter, std::move(label_names),
                      [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return add<Gauge>(name, help, MetricType::kGauge, std::move(label_names),
                    [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<double> bounds,
                                       std::vector<std::string> label_names) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
      throw std::invalid_argument("histogram " + name +
                                  ": bucket bounds must be finite and strictly increasing");
  return add<Histogram>(
      name, help, MetricType::kHistogram, std::move(label_names),
      [bounds] { return std::make_unique<Histogram>(bounds); }, bounds);
}

CallbackGauge Registry::gauge_callback(const std::string& name, const std::string& help,
                                       std::function<double()> read) {
  std::lock_guard lock(mu_);
  check_name_free(name, true);
  Callbacks& c = callbacks_[name];
  c.help = help;
  uint64_t id = next_id_++;
  c.reads.emplace(id, std::move(read));
  return CallbackGauge(this, name, id);
}

void Registry::remove_callback(const std::string& name, uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = callbacks_.find(name);
  if (it == callbacks_.end()) return;
  it->second.reads.erase(id);
  if (it->second.reads.empty()) callbacks_.erase(it);
}

std::vector<FamilySnapshot> Registry::collect() const {
  std::lock_guard lock(mu_);
  std::vector<FamilySnapshot> out;
  for (const auto& [_, f] : families_) out.push_back(f->collect());
  for (const auto& [name, c] : callbacks_) {
    double sum = 0;
    for (const auto& [_, read] : c.reads) sum += read();
    out.push_back({name, c.help, MetricType::kGauge, {{"", {}, sum}}});
  }
  std::sort(out.begin(), out.end(),
            [](const FamilySnapshot& a, const FamilySnapshot& b) { return a.name < b.name; });
  return out;
}

CallbackGauge& CallbackGauge::operator=(CallbackGauge&& o) noexcept {
  if (this != &o) {
    reset();
    registry_ = o.registry_;
    name_ = std::move(o.name_);
    id_ = o.id_;
    o.registry_ = nullptr;
  }
  return *this;
}

void CallbackGauge::reset() {
  if (registry_) registry_->remove_callback(name_, id_);
  registry_ = nullptr;
}

Registry& default_registry() {
  static Registry* registry = new Registry();  // never destroyed: threads may still update
  return *registry;
}

}  // namespace faultline::metrics
