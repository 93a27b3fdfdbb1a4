// Which query names a dns_fault rule applies to. Built once from the experiment (errors name the
// bad pattern), then run on every query the helper intercepts, so matching is linear-ish in the
// untrusted name and allocates nothing unless a regex meets a name that is not in lower case.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace faultline::dns {

class NameMatcher {
 public:
  // Each pattern is one of:
  //  - an exact name, "api.example.com"; a trailing dot is optional and case is ignored; "." is
  //    the root;
  //  - a glob where '*' matches any run of characters, dots included, and '?' any one character:
  //    "*.payments.internal" matches "a.b.payments.internal" but not "payments.internal". Our own
  //    matcher, not fnmatch(3), whose backtracking is exponential in the number of stars;
  //  - "regex:<RE2 pattern>", which must match the whole lower-cased name without its trailing
  //    dot (letters in the pattern match either case, so a capital cannot silently never match).
  // A name matches if any pattern does; no patterns match every name. Empty patterns, spaces and
  // control characters, empty labels ("a..b") and exact names that no query could carry are
  // refused as likely mistakes.
  static Result<NameMatcher> make(const std::vector<std::string>& patterns);

  // `name` as parse_query() gives it, though case and one trailing dot are forgiven.
  bool matches(std::string_view name) const;

 private:
  struct Pattern {
    enum Kind { kExact, kGlob, kRegex } kind = kExact;
    std::string text;                       // lower case, no trailing dot (not for kRegex)
    std::shared_ptr<const re2::RE2> regex;  // shared so that matchers copy cheaply
  };

  NameMatcher() = default;

  std::vector<Pattern> patterns_;
};

}  // namespace faultline::dns
