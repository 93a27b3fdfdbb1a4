// Which requests a fault rule applies to: method, path and header conditions, all of which must
// hold. Built once from the experiment (errors name the bad part), then run on every request an
// interceptor sees, so matching is linear-ish on untrusted input and allocates nothing.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/http/http_message.h"
#include "common/result.h"

namespace re2 {
class RE2;
}

namespace faultline::http {

// Matched against RequestHead::path(): the raw path, query and fragment cut off, no percent
// decoding or dot-segment removal (a fault tool is no access control; a client that spells a
// path oddly is matched as spelled).
struct PathPattern {
  enum Kind {
    kAny,
    kExact,   // the whole path
    kPrefix,  // a plain string prefix: "/v1/charge" also matches "/v1/charges"
    // '*' matches a run of characters within one segment and '?' one character other than '/',
    // so "/v1/*/status" matches "/v1/a/status" but not "/v1/a/b/status"; "**" is the same as "*"
    // (use a prefix or a regex to span segments). Our own matcher, not fnmatch(3): glibc's
    // backtracks in time exponential in the number of stars, and the path is untrusted.
    kGlob,
    kRegex,  // RE2 syntax, found anywhere in the path unless anchored with ^ and $
  };
  Kind kind = kAny;
  std::string text;
};

class RequestMatcher {
 public:
  using HeaderCondition = std::pair<std::string, std::string>;

  // `methods`: empty for any, else upper-case tokens compared exactly (methods are
  // case-sensitive, so "get" is refused as a likely mistake). `headers`: the name is compared
  // case-insensitively; the value exactly, unless it holds a '*', which then matches any run
  // of characters ("*" alone: the field is present). A request with several fields of that name
  // matches if any one does.
  static Result<RequestMatcher> make(std::vector<std::string> methods, PathPattern path,
                                     std::vector<HeaderCondition> headers);

  bool matches(const RequestHead& head) const;

 private:
  RequestMatcher() = default;

  std::vector<std::string> methods_;
  PathPattern path_;
  std::shared_ptr<const re2::RE2> regex_;  // shared so that matchers copy cheaply
  std::vector<HeaderCondition> headers_;
};

}  // namespace faultline::http
