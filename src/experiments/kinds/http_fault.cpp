#include "experiments/kinds/http_fault.h"

#include "common/http/request_match.h"
#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

const char* kActions[] = {"abort", "delay", "replace", "reset"};
const char* kPathKinds[] = {"exact", "prefix", "glob", "regex"};

SchemaPtr rule_schema() {
  auto match = object(
      {opt("method", list(str("An HTTP method, e.g. POST.", "POST"), "Any of these methods.")),
       opt("path",
           object({opt("exact", str("The whole path (without the query).", "/healthz")),
                   opt("prefix", str("The path starts with this.", "/v1/charge")),
                   opt("glob", str("A shell pattern; * stays within one segment.", "/v1/*/status")),
                   opt("regex",
                       str("An RE2 regular expression, searched in the path.", "^/v[0-9]+/"))},
                  "Which paths (the query is not part of the path).",
                  {{"exact", "prefix", "glob", "regex"}})),
       opt("headers", string_map("Headers that must all be present with these values (names "
                                 "case-insensitive; a value with * is a shell pattern)."))},
      "Which requests the rule takes; every key given must match. No key: every request.");
  auto response = [](const std::string& doc, const std::string& status_default) {
    return object({opt("status", integer("The status code (a final one: 200 to 599).", 200, 599,
                                         status_default)),
                   opt("body", str("The body (Content-Length is set for it).")),
                   opt("headers", string_map("Headers added to the response."))},
                  doc);
  };
  return object(
      {opt("match", match),
       opt("percent", percent("Share of matching requests the action is taken on, drawn per "
                              "request (not per connection).",
                              "100%")),
       opt("abort", response("Answer for the server, which never sees the request.", "503")),
       opt("delay",
           object(
               {req("delay", duration("Held before the request is forwarded.", "", true, 3600)),
                opt("jitter", duration("Random variation around the delay.", "0s", false, 3600))},
               "Forward the request late (later requests on its connection wait "
               "behind it, as behind a slow server).")),
       opt("replace", response("Forward the request, then swap what the server answered: the "
                               "status, headers and body given.",
                               "")),
       opt("reset", object({}, "Close the client's and the server's connection at once (RST)."))},
      "One rule: which requests, how many, what is done.",
      {{"abort", "delay", "replace", "reset"}});
}

http::PathPattern::Kind path_kind(const std::string& kind) {
  if (kind == "exact") return http::PathPattern::kExact;
  if (kind == "prefix") return http::PathPattern::kPrefix;
  if (kind == "glob") return http::PathPattern::kGlob;
  if (kind == "regex") return http::PathPattern::kRegex;
  return http::PathPattern::kAny;
}

SchemaPtr rules_schema() {
  auto s = list(rule_schema(),
                "Tried in order; the first rule a request matches decides. A "
                "request no rule takes passes unchanged.");
  s->example = "[{match: {path: {prefix: /v1/charge}}, percent: 20%, abort: {status: 503}}]";
  return s;
}

std::vector<std::pair<std::string, std::string>> string_pairs(const ParamValues& v,
                                                              const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : v.keys_under(key)) out.emplace_back(name, v.text(key + "." + name));
  return out;
}

HttpFaultRule read_rule(const ParamValues& v, const std::string& at) {
  HttpFaultRule r;
  r.methods = v.texts(at + ".match.method");
  for (const char* kind : kPathKinds)
    if (v.has(at + ".match.path." + kind)) {
      r.path_kind = kind;
      r.path = v.text(at + ".match.path." + kind);
    }
  r.headers = string_pairs(v, at + ".match.headers");
  r.percent = v.has(at + ".percent") ? v.fraction(at + ".percent") : 1.0;
  for (const char* action : kActions)
    if (v.has_object(at + "." + action)) r.action = action;
  const std::string a = at + "." + r.action;
  if (r.action == "abort" || r.action == "replace") {
    r.status = v.has(a + ".status") ? static_cast<int>(v.integer(a + ".status"))
                                    : (r.action == "abort" ? 503 : 0);
    r.has_body = v.has(a + ".body");
    r.body = v.text(a + ".body");
    r.response_headers = string_pairs(v, a + ".headers");
  } else if (r.action == "delay") {
    r.delay = v.duration(a + ".delay");
    r.jitter = v.duration(a + ".jitter");
  }
  return r;
}

void write(const HttpFaultParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_http_fault();
  *m->mutable_scope() = t.scope;
  m->mutable_scope()->set_protocol("tcp");
  if (m->scope().ports().empty()) m->mutable_scope()->add_ports(80);  // HTTP's own port
  m->set_existing_connections(p.existing_connections);
  m->set_drain_ms(millis(p.drain));
  if (!p.tls_certificate.empty()) {
    m->mutable_tls()->set_certificate(p.tls_certificate);
    m->mutable_tls()->set_key(p.tls_key);
  }
  for (const auto& r : p.rules) {
    auto* w = m->add_rules();
    for (const auto& method : r.methods) w->add_methods(method);
    w->set_path_kind(r.path_kind);
    w->set_path(r.path);
    for (const auto& [name, value] : r.headers) {
      auto* h = w->add_headers();
      h->set_name(name);
      h->set_value(value);
    }
    w->set_percent(r.percent);
    w->set_action(r.action);
    w->set_status(static_cast<uint32_t>(r.status));
    w->set_body(r.body);
    w->set_has_body(r.has_body);
    for (const auto& [name, value] : r.response_headers) {
      auto* h = w->add_response_headers();
      h->set_name(name);
      h->set_value(value);
    }
    w->set_delay_us(micros(r.delay));
    w->set_jitter_us(micros(r.jitter));
  }
}

void check(const FaultSpec& f, const TargetSpec* t, KindProblems& problems) {
  const auto* p = params_as<HttpFaultParams>(f.params);
  if (!p) return;
  for (size_t i = 0; i < p->rules.size(); ++i) {
    const auto& r = p->rules[i];
    const std::string at = "params.rules[" + std::to_string(i) + "]";
    auto matcher =
        http::RequestMatcher::make(r.methods, {path_kind(r.path_kind), r.path}, r.headers);
    if (!matcher) problems.error(at + ".match", matcher.error().message);
  }
  if (p->tls_certificate.empty() != p->tls_key.empty())
    problems.error("params.tls", "give both certificate and key");
  for (const auto* path : {&p->tls_certificate, &p->tls_key})
    if (!path->empty() && path->front() != '/')
      problems.error("params.tls", "\"" + *path + "\" is not an absolute path on the node");
  if (!t || !t->network) return;
  if (p->tls_certificate.empty())
    for (int port : t->network->ports)
      if (port == 443 || port == 8443)
        problems.error("target",
                       "port " + std::to_string(port) +
                           " carries TLS: http_fault cannot read encrypted requests without a "
                           "certificate to terminate them with (give params.tls: {certificate, "
                           "key}), or fault the plain-HTTP port behind the TLS terminator");
  if (t->network->direction == "both")
    problems.error("target",
                   "http_fault takes one direction: ingress (requests the service "
                   "receives on its port) or egress (requests clients send to it)");
}

FaultKind describe() {
  return {
      .name = "http_fault",
      .params = object(
          {req("rules", rules_schema()),
           opt("existing_connections",
               enumeration({"retire", "leave"},
                           "Keep-alive connections opened before the fault: retire closes "
                           "each one when it is idle (within 2 s), so its client reconnects "
                           "through the fault; leave keeps them direct and unfaulted.",
                           "retire")),
           opt("drain", duration("On revert, how long requests in flight may take to finish "
                                 "before their connections are closed.",
                                 "10s", false, 600)),
           opt("tls",
               object({req("certificate", str("PEM file on the node: the certificate the "
                                              "clients expect, then its chain.",
                                              "/etc/faultline/tls/payments.crt")),
                       req("key", str("PEM file on the node: its private key (readable by "
                                      "root only).",
                                      "/etc/faultline/tls/payments.key"))},
                      "Terminate TLS with this certificate: TLS connections are decrypted, "
                      "faulted like plain ones, and re-encrypted to the original destination "
                      "(whose certificate is not checked). The injector reads the files only "
                      "where its policy's allow.paths lets it."))},
          "Abort, delay, replace or reset HTTP/1.1 requests in the target's network scope: "
          "its ports are the HTTP server's (80 when none are given), its direction says whose "
          "requests (ingress: those the service on this node receives; egress: those clients "
          "on this node send)."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<HttpFaultParams>();
            for (size_t i = 0, n = v.count("rules"); i < n; ++i)
              p->rules.push_back(read_rule(v, "rules[" + std::to_string(i) + "]"));
            p->existing_connections = v.text("existing_connections");
            p->drain = v.duration("drain");
            p->tls_certificate = v.text("tls.certificate");
            p->tls_key = v.text("tls.key");
            return p;
          },
      .check = check,
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
