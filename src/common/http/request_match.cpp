#include "common/http/request_match.h"

#include <algorithm>

#include <re2/re2.h>

#include "common/wildcard.h"

namespace faultline::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// Neither wildcard matches '/', so the pattern's slashes pair off with the path's in order and
// each segment is matched on its own.
bool path_glob(std::string_view p, std::string_view t) {
  for (;;) {
    const size_t ps = p.find('/'), ts = t.find('/');
    if (!wildcard_match(p.substr(0, ps), t.substr(0, ts))) return false;
    if (ps == std::string_view::npos || ts == std::string_view::npos) return ps == ts;
    p.remove_prefix(ps + 1);
    t.remove_prefix(ts + 1);
  }
}

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<RequestMatcher> RequestMatcher::make(std::vector<std::string> methods, PathPattern path,
                                            std::vector<HeaderCondition> headers) {
  for (const auto& m : methods) {
    if (!valid_field_name(m)) return invalid("method \"" + m + "\" is not a token");
    if (std::any_of(m.begin(), m.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      return invalid("method \"" + m + "\" is not upper case (methods are case-sensitive)");
  }
  RequestMatcher r;
  if (path.kind != PathPattern::kAny && path.text.empty()) return invalid("empty path pattern");
  if ((path.kind == PathPattern::kExact || path.kind == PathPattern::kPrefix ||
       path.kind == PathPattern::kGlob) &&
      path.text.front() != '/')
    return invalid("path \"" + path.text + "\" does not start with '/'");
  if (path.kind == PathPattern::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(path.text, options);
    if (!re->ok()) return invalid("bad path regex \"" + path.text + "\": " + re->error());
    r.regex_ = std::move(re);
  }
  for (const auto& [name, value] : headers) {
    if (!valid_field_name(name)) return invalid("header name \"" + name + "\" is not a token");
    if (!valid_field_value(value))
      return invalid("header \"" + name + "\" value has a control character");
  }
  r.methods_ = std::move(methods);
  r.path_ = std::move(path);
  r.headers_ = std::move(headers);
  return r;
}

bool RequestMatcher::matches(const RequestHead& head) const {
  if (!methods_.empty() &&
      std::find(methods_.begin(), methods_.end(), head.method) == methods_.end())
    return false;
  const std::string_view p = head.path();
  switch (path_.kind) {
    case PathPattern::kAny:
      break;
    case PathPattern::kExact:
      if (p != path_.text) return false;
      break;
    case PathPattern::kPrefix:
      if (p.substr(0, path_.text.size()) != path_.text) return false;
      break;
    case PathPattern::kGlob:
      if (!path_glob(path_.text, p)) return false;
      break;
    case PathPattern::kRegex:
      if (!RE2::PartialMatch(p, *regex_)) return false;
      break;
  }
  for (const auto& want : headers_) {  // not a structured binding: clang 15 cannot capture one
    const bool glob = want.second.find('*') != std::string::npos;
    if (std::none_of(head.headers.begin(), head.headers.end(), [&](const Header& h) {
          return iequals(h.name, want.first) &&
                 (glob ? wildcard_match(want.second, h.value, {.question_mark = false})
                       : h.value == want.second);
        }))
      return false;
  }
  return true;
}

}  // namespace faultline::http
