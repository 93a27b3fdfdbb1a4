#include "proxy/http_abort.h"

namespace faultline::proxy {

namespace {

Error bad(const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, "bad request body: " + what};
}

}  // namespace

Result<HttpAbortRule> HttpAbortRule::make(const Toxic& t) {
  int64_t status = t.attr("status");
  if (status < 200 || status > 599) return bad("attributes.status must be from 200 to 599");
  const std::string& method = t.text("method");
  const std::string& path = t.text("path");
  std::vector<std::string> methods;
  if (!method.empty()) methods.push_back(method);
  // Checked one at a time so that the message names the attribute that is wrong.
  if (auto m = http::RequestMatcher::make(methods, {}, {}); !m)
    return bad("attributes.method: " + m.error().message);
  http::PathPattern pattern;  // "": any path
  if (!path.empty()) {
    pattern.kind =
        path.find('*') != std::string::npos ? http::PathPattern::kGlob : http::PathPattern::kPrefix;
    pattern.text = path;
  }
  auto matcher = http::RequestMatcher::make(std::move(methods), std::move(pattern), {});
  if (!matcher) return bad("attributes.path: " + matcher.error().message);
  // The shared serializer computes Content-Length and adds the reason phrase; a status that
  // has no body (204, 304) gets none.
  std::string response =
      http::serialize_response(static_cast<int>(status), "", {}, t.text("body"), true);
  size_t head_size = response.find("\r\n\r\n") + 4;
  return HttpAbortRule(std::move(*matcher), std::move(response), head_size);
}

std::string HttpAbortRule::response(bool head_request) const {
  return head_request ? response_.substr(0, head_size_) : response_;
}

void AbortHandOff::arm(std::string response) {
  if (armed()) return;
  response_ = std::move(response);
  armed_.store(true, std::memory_order_release);
}

void AbortHandOff::server_half_closed(int64_t now_ns) {
  half_closed_ns_.store(now_ns, std::memory_order_release);
}

bool AbortHandOff::overdue(int64_t now_ns) const {
  return overdue_by(now_ns, kAbortGraceNs);
}

bool AbortHandOff::overdue_by(int64_t now_ns, int64_t limit_ns) const {
  int64_t at = half_closed_ns_.load(std::memory_order_acquire);
  return armed() && at >= 0 && now_ns - at >= limit_ns;
}

}  // namespace faultline::proxy
