#include "controller/watch/value_check.h"

#include <fmt/format.h>

namespace faultline::controller {

std::string value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

const nlohmann::json* json_at(const nlohmann::json& doc, const std::string& path) {
  const nlohmann::json* at = &doc;
  size_t pos = 0;
  while (pos <= path.size() && !path.empty()) {
    size_t dot = path.find('.', pos);
    std::string key = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (at->is_array()) {
      char* end = nullptr;
      unsigned long i = std::strtoul(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || i >= at->size()) return nullptr;
      at = &(*at)[i];
    } else if (at->is_object() && at->contains(key)) {
      at = &(*at)[key];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return at;
}

std::string check_value(const experiments::ValueCheck& check, const nlohmann::json& value) {
  std::string text = value_text(value);
  if (check.equals && text != *check.equals)
    return fmt::format("\"{}\" is not \"{}\"", text, *check.equals);
  if (!check.min && !check.max) return "";
  double v = 0;
  if (value.is_number()) {
    v = value.get<double>();
  } else {
    // Prometheus sends sample values as strings ("0.25", "NaN").
    char* end = nullptr;
    v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') return fmt::format("\"{}\" is not a number", text);
  }
  if (check.min && !(v >= *check.min))
    return fmt::format("{:g} is below the minimum {:g}", v, *check.min);
  if (check.max && !(v <= *check.max))
    return fmt::format("{:g} is above the maximum {:g}", v, *check.max);
  return "";
}

}  // namespace faultline::controller
