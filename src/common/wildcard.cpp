#include "common/wildcard.h"

namespace faultline {

bool wildcard_match(std::string_view p, std::string_view t, WildcardOptions options) {
  auto fold = [&](char c) {
    return options.fold_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
  };
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && (p[pi] == fold(t[ti]) || (options.question_mark && p[pi] == '?'))) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace faultline
