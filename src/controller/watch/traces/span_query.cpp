#include "controller/watch/traces/span_query.h"

#include <cctype>
#include <cstdio>

namespace faultline::controller {

bool is_server_error_status(const std::string& key, int64_t status) {
  return (key == "http.response.status_code" || key == "http.status_code") && status >= 500;
}

std::string url_encode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace faultline::controller
