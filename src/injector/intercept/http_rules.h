// An http_fault's rules, compiled once for the interceptor: each rule's matcher and, for an
// abort, its response already serialized. Shared read-only by every connection; the percent
// draw is the only state (one seeded generator, so a run's draws are reproducible).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/http/request_match.h"
#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector::intercept {

namespace pb = ::faultline::v1;

struct CompiledRule {
  http::RequestMatcher matcher;
  pb::HttpRule rule;
  std::string abort_response;  // abort: the whole response, keep-alive
  std::string abort_closing;   // abort: the same with `Connection: close`
  std::string abort_head;      // abort of a HEAD request: the head alone
  std::string abort_head_closing;
};

// What every connection counts, reported to the injector.
struct InterceptStats {
  std::atomic<uint64_t> connections{0}, requests{0}, matched{0}, aborted{0}, delayed{0},
      replaced{0}, reset{0}, passed{0}, uninspected{0}, tls{0}, upstream_errors{0},
      tls_terminated{0}, tls_failed{0};
};

class HttpRules {
 public:
  static Result<HttpRules> compile(const pb::HttpFault& fault);

  // The rule a request is to be faulted by, or null: the first whose matcher takes it, if the
  // percent draw says so. Counts matched requests.
  const CompiledRule* decide(const http::RequestHead& head, InterceptStats& stats) const;

 private:
  struct Draw {
    std::mutex mu;
    std::mt19937_64 rng;
  };
  std::vector<CompiledRule> rules_;
  std::unique_ptr<Draw> draw_ = std::make_unique<Draw>();  // held apart so the rules move
};

// What a replace rule makes of the server's response head: its status unless the rule gives
// one, its fields with the rule's put in place of those of the same name. The framing fields
// stay the server's (the body follows unchanged) unless `body_length` is given: then the body
// is the rule's and Content-Length says how long it is.
std::string replaced_head(const pb::HttpRule& rule, const http::ResponseHead& head,
                          const std::string* body_length_for);

// The server's response head as it was, but saying `Connection: close` (a drain's last
// answer on a connection: the client opens its next one direct).
std::string closing_head(const http::ResponseHead& head);

http::PathPattern::Kind path_kind_named(const std::string& kind);

}  // namespace faultline::injector::intercept
