#include "controller/store/run_cursor.h"

namespace faultline::controller {

std::optional<RunCursor> RunCursor::parse(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 18 || dot + 1 >= token.size() ||
      token.size() > 128)
    return std::nullopt;
  RunCursor c;
  for (size_t i = 0; i < dot; ++i) {
    if (token[i] < '0' || token[i] > '9') return std::nullopt;
    c.started_unix_ms = c.started_unix_ms * 10 + (token[i] - '0');
  }
  c.run_id = token.substr(dot + 1);
  return c;
}

}  // namespace faultline::controller
