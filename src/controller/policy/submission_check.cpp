#include "controller/policy/submission_check.h"

#include <variant>

namespace faultline::controller {
namespace {

class SubmissionCheck {
 public:
  SubmissionCheck(const ControllerPolicy& policy, experiments::Diagnostics& out)
      : policy_(policy), guard_(policy.destinations()), out_(out) {}

  void probe(const experiments::ProbeKind& kind, const experiments::SourceLocation& where,
             const std::string& field) {
    std::visit([&](const auto& spec) { check(spec, where, field); }, kind);
  }

  void command(const std::vector<std::string>& argv, const experiments::SourceLocation& where,
               const std::string& field) {
    std::string program = argv.empty() ? "" : argv[0];
    if (policy_.command(program)) return;
    refuse(where, field,
           "submitted experiments may not run \"" + program +
               "\" on the controller: no commands[].path of the controller policy " +
               policy_.source + " is that program" +
               (program.empty() || program[0] != '/' ? " (rules name absolute paths)" : ""));
  }

 private:
  void check(const experiments::HttpProbeSpec& s, const experiments::SourceLocation& where,
             const std::string& field) {
    if (!s.pods) host(host_of_url(s.url), where, field + ".http.url");
    ca_file(s.ca_file, where, field + ".http.ca_file");
  }
  void check(const experiments::TcpProbeSpec& s, const experiments::SourceLocation& where,
             const std::string& field) {
    if (!s.pods) host(host_of_address(s.address), where, field + ".tcp.address");
  }
  void check(const experiments::GrpcHealthProbeSpec& s, const experiments::SourceLocation& where,
             const std::string& field) {
    // The loader already refused gRPC target URIs ("unix:/run/..."): this is host:port.
    host(host_of_address(s.address), where, field + ".grpc_health.address");
    ca_file(s.ca_file, where, field + ".grpc_health.ca_file");
  }
  void check(const experiments::CommandProbeSpec& s, const experiments::SourceLocation& where,
             const std::string& field) {
    command(s.argv, where, field + ".command.run");
  }
  void check(const experiments::PrometheusProbeSpec& s, const experiments::SourceLocation& where,
             const std::string& field) {
    host(host_of_url(s.url), where, field + ".prometheus.url");
  }
  void check(const experiments::SliCondition& s, const experiments::SourceLocation& where,
             const std::string& field) {
    if (s.source.kind != experiments::SpanSource::Kind::kOtlp)
      host(host_of_url(s.source.url), where,
           field + (field.ends_with(".sli") ? "" : ".traces") +
               (s.source.kind == experiments::SpanSource::Kind::kZipkin ? ".zipkin" : ".jaeger"));
  }
  template <class Other>
  void check(const Other&, const experiments::SourceLocation&, const std::string&) {}

  void host(const std::string& h, const experiments::SourceLocation& where,
            const std::string& field) {
    if (h.empty()) return;  // the loader already refused a URL without a host
    if (std::string why = guard_.refusal(h); !why.empty()) refuse(where, field, why);
  }
  void ca_file(const std::string& path, const experiments::SourceLocation& where,
               const std::string& field) {
    if (path.empty() || policy_.ca_file_allowed(path)) return;
    refuse(where, field,
           "submitted experiments may not make the controller read \"" + path +
               "\": no ca_files entry of the controller policy " + policy_.source + " covers it");
  }
  void refuse(const experiments::SourceLocation& where, const std::string& field,
              const std::string& why) {
    out_.push_back({where, field, why});
  }

  const ControllerPolicy& policy_;
  DestinationGuard guard_;
  experiments::Diagnostics& out_;
};

}  // namespace

experiments::Diagnostics check_submission(const experiments::Experiment& e,
                                          const ControllerPolicy& policy) {
  experiments::Diagnostics out;
  SubmissionCheck check(policy, out);
  auto at = [](const char* list, size_t i) {
    return std::string(list) + "[" + std::to_string(i) + "]";
  };
  for (size_t i = 0; i < e.steady_state.size(); ++i)
    check.probe(e.steady_state[i].kind, e.steady_state[i].where, at("steady_state", i));
  for (size_t i = 0; i < e.abort_when.size(); ++i)
    check.probe(
        e.abort_when[i].probe, e.abort_when[i].where,
        at("abort_when", i) +
            (std::holds_alternative<experiments::SliCondition>(e.abort_when[i].probe) ? ".sli"
                                                                                      : ".probe"));
  if (e.recovery)
    for (size_t i = 0; i < e.recovery->checks.size(); ++i)
      check.probe(e.recovery->checks[i].kind, e.recovery->checks[i].where,
                  at("recovery.checks", i));
  for (size_t i = 0; i < e.rollbacks.size(); ++i) {
    const auto& rb = e.rollbacks[i];
    if (const auto* cmd = std::get_if<experiments::CommandAction>(&rb.action))
      check.command(cmd->argv, rb.where, at("rollbacks", i) + ".command.run");
    else
      check.probe(std::get<experiments::HttpProbeSpec>(rb.action), rb.where, at("rollbacks", i));
  }
  return out;
}

}  // namespace faultline::controller
