// The Prometheus text exposition format, version 0.0.4: what a scrape of /metrics returns.
// The registry turns its series into these plain samples; this file only formats them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::metrics {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };
const char* type_name(MetricType type);

struct Sample {
  std::string suffix;  // "" or, for histograms, "_bucket", "_sum", "_count"
  std::vector<std::pair<std::string, std::string>> labels;  // name, value (unescaped)
  double value = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// "# HELP", "# TYPE" and one line per sample for each family, in the order given.
std::string render_text(const std::vector<FamilySnapshot>& families);

// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN" as Prometheus spells
// them.
std::string format_value(double v);
// Escapes for a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);
// Escapes for HELP text: backslash and newline.
std::string escape_help(std::string_view v);

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: [a-zA-Z_][a-zA-Z0-9_]*, not starting
// with "__" (reserved for Prometheus itself).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace faultline::metrics
