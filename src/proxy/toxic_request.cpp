#include "proxy/toxic_request.h"

#include <charconv>
#include <cstdint>

#include "proxy/toxic.h"

namespace faultline::proxy {
namespace {

// A whole number as YAML wrote it ("500", "-3"); "500ms" or "1.5" stay strings, which the
// proxy then refuses for a number attribute with its own message. A text attribute stays text
// even when it looks like a number (an http_abort body "404").
bool whole_number(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

nlohmann::json toxic_request(const std::string& name, const std::string& type,
                             const std::string& stream, double toxicity,
                             const std::map<std::string, std::string>& attributes) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [key, value] : attributes) {
    int64_t n = 0;
    if (!is_text_attribute(type, key) && whole_number(value, n))
      attrs[key] = n;
    else
      attrs[key] = value;
  }
  return {{"name", name},
          {"type", type},
          {"stream", stream},
          {"toxicity", toxicity},
          {"attributes", attrs}};
}

}  // namespace faultline::proxy
