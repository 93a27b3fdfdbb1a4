#include "injector/intercept/http_rules.h"

#include <strings.h>

namespace faultline::injector::intercept {

http::PathPattern::Kind path_kind_named(const std::string& kind) {
  if (kind == "exact") return http::PathPattern::kExact;
  if (kind == "prefix") return http::PathPattern::kPrefix;
  if (kind == "glob") return http::PathPattern::kGlob;
  if (kind == "regex") return http::PathPattern::kRegex;
  return http::PathPattern::kAny;
}

namespace {

std::vector<http::Header> headers_of(
    const google::protobuf::RepeatedPtrField<pb::HttpHeader>& given) {
  std::vector<http::Header> out;
  for (const auto& h : given) out.push_back({h.name(), h.value()});
  return out;
}

}  // namespace

Result<HttpRules> HttpRules::compile(const pb::HttpFault& fault) {
  HttpRules out;
  out.draw_->rng.seed(fault.seed());
  for (const auto& r : fault.rules()) {
    std::vector<http::RequestMatcher::HeaderCondition> conditions;
    for (const auto& h : r.headers()) conditions.emplace_back(h.name(), h.value());
    auto matcher =
        http::RequestMatcher::make({r.methods().begin(), r.methods().end()},
                                   {path_kind_named(r.path_kind()), r.path()}, conditions);
    if (!matcher) return matcher.error();
    for (const auto& h : r.response_headers())
      if (!http::valid_field_name(h.name()) || !http::valid_field_value(h.value()))
        return make_error(ErrorCode::kInvalidArgument, "bad response header " + h.name());
    CompiledRule c{std::move(*matcher), r, "", "", "", ""};
    if (r.action() == "abort") {
      auto headers = headers_of(r.response_headers());
      c.abort_response =
          http::serialize_response(static_cast<int>(r.status()), "", headers, r.body(), false);
      c.abort_closing =
          http::serialize_response(static_cast<int>(r.status()), "", headers, r.body(), true);
      // A response to HEAD has the fields a GET would get, and no body.
      auto head_of = [](const std::string& full) {
        return full.substr(0, full.find("\r\n\r\n") + 4);
      };
      c.abort_head = head_of(c.abort_response);
      c.abort_head_closing = head_of(c.abort_closing);
    }
    out.rules_.push_back(std::move(c));
  }
  return out;
}

const CompiledRule* HttpRules::decide(const http::RequestHead& head, InterceptStats& stats) const {
  for (const auto& c : rules_) {
    if (!c.matcher.matches(head)) continue;
    stats.matched++;
    if (c.rule.percent() >= 1) return &c;
    std::lock_guard lock(draw_->mu);
    double draw = std::uniform_real_distribution<double>(0, 1)(draw_->rng);
    return draw < c.rule.percent() ? &c : nullptr;
  }
  return nullptr;
}

std::string replaced_head(const pb::HttpRule& rule, const http::ResponseHead& head,
                          const std::string* body) {
  auto is = [](const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; };
  auto framing = [&](const std::string& name) {
    return is(name, "content-length") || is(name, "transfer-encoding");
  };
  std::string out = "HTTP/1.1 ";
  if (rule.status() != 0) {
    std::string line = http::serialize_response(static_cast<int>(rule.status()), "", {}, "", false);
    out = line.substr(0, line.find("\r\n") + 2);  // the status line with its standard reason
  } else {
    out += std::to_string(head.status) + " " + head.reason + "\r\n";
  }
  for (const auto& h : head.headers) {
    bool overridden = body && framing(h.name);
    for (const auto& g : rule.response_headers())
      overridden = overridden || is(g.name(), h.name.c_str());
    if (!overridden) out += h.name + ": " + h.value + "\r\n";
  }
  for (const auto& g : rule.response_headers())
    if (!framing(g.name())) out += g.name() + ": " + g.value() + "\r\n";
  if (body) out += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  return out + "\r\n";
}

std::string closing_head(const http::ResponseHead& head) {
  std::string out = (head.version.empty() ? std::string("HTTP/1.1") : head.version) + " " +
                    std::to_string(head.status) + " " + head.reason + "\r\n";
  for (const auto& h : head.headers)
    if (strcasecmp(h.name.c_str(), "connection") != 0 &&
        strcasecmp(h.name.c_str(), "keep-alive") != 0)
      out += h.name + ": " + h.value + "\r\n";
  return out + "Connection: close\r\n\r\n";
}

}  // namespace faultline::injector::intercept
