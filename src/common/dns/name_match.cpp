#include "common/dns/name_match.h"

#include "common/wildcard.h"

#include <algorithm>

#include <re2/re2.h>

namespace faultline::dns {
namespace {

constexpr std::string_view kRegexPrefix = "regex:";
constexpr size_t kMaxNameText = 253;  // 255 wire bytes less the first length byte and the root
constexpr size_t kMaxLabelText = 63;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

std::string_view strip_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<NameMatcher> NameMatcher::make(const std::vector<std::string>& patterns) {
  NameMatcher m;
  for (const auto& text : patterns) {
    if (text.empty()) return invalid("empty name pattern");
    Pattern p;
    if (std::string_view(text).substr(0, kRegexPrefix.size()) == kRegexPrefix) {
      const std::string expr = text.substr(kRegexPrefix.size());
      if (expr.empty()) return invalid("empty name regex in \"" + text + "\"");
      RE2::Options options;
      options.set_log_errors(false);
      options.set_case_sensitive(false);
      auto re = std::make_shared<const RE2>(expr, options);
      if (!re->ok()) return invalid("bad name regex \"" + expr + "\": " + re->error());
      p.kind = Pattern::kRegex;
      p.regex = std::move(re);
      m.patterns_.push_back(std::move(p));
      continue;
    }
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
      return invalid("name pattern \"" + text + "\" has a space or control character");
    const std::string_view name = strip_dot(text);
    if (!name.empty() &&
        (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos))
      return invalid("name pattern \"" + text + "\" has an empty label");
    p.kind = name.find_first_of("*?") == std::string_view::npos ? Pattern::kExact : Pattern::kGlob;
    if (p.kind == Pattern::kExact) {
      if (name.size() > kMaxNameText) return invalid("name \"" + text + "\" is too long for DNS");
      for (size_t start = 0; start <= name.size();) {
        const size_t dot = std::min(name.find('.', start), name.size());
        if (dot - start > kMaxLabelText)
          return invalid("name \"" + text + "\" has a label longer than 63 bytes");
        start = dot + 1;
      }
    }
    p.text.reserve(name.size());
    for (char c : name) p.text.push_back(lower(c));
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

bool NameMatcher::matches(std::string_view name) const {
  if (patterns_.empty()) return true;
  name = strip_dot(name);
  std::string folded;  // for regexes, and only when the caller did not lower-case the name
  for (const auto& p : patterns_) {
    switch (p.kind) {
      case Pattern::kExact:
        if (iequals(name, p.text)) return true;
        break;
      case Pattern::kGlob:
        if (wildcard_match(p.text, name, {.fold_case = true})) return true;  // p is lower case
        break;
      case Pattern::kRegex:
        if (folded.empty() && has_upper(name)) {
          folded.reserve(name.size());
          for (char c : name) folded.push_back(lower(c));
        }
        if (RE2::FullMatch(folded.empty() ? name : std::string_view(folded), *p.regex)) return true;
        break;
    }
  }
  return false;
}

}  // namespace faultline::dns
