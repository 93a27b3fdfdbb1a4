// http_fault: the scope's HTTP connections are redirected to a faultline-intercept helper in
// the scope's network namespace, which applies the fault's rules request by request
// (intercepting_backend.h has the life cycle).
#pragma once

#include "injector/intercept/intercepting_backend.h"

namespace faultline::injector {

// A certificate or key file for TLS termination: a regular root-owned file nobody else can
// write (a key: nor read), not through a symlink, at most 1 MiB.
Result<std::string> read_tls_file(const std::string& path, bool secret);

class HttpFaultBackend : public InterceptingBackend {
 public:
  std::string kind() const override { return "http_fault"; }

 protected:
  Result<Plan> plan(const pb::FaultSpec& spec) override;
  std::vector<ChainSpec> chains(const std::string& fault_id, const Plan& plan,
                                const pb::InterceptorReport& ports) override;
  std::string describe(const pb::InterceptorReport& r) const override {
    return describe_interception(r);
  }
  uint64_t drain_ms(const pb::FaultSpec& spec) const override {
    return spec.http_fault().drain_ms();
  }
  std::vector<char> purposes() const override { return {'h', 'l'}; }
  const pb::NetworkScope& scope_of(const pb::FaultSpec& spec) const override {
    return spec.http_fault().scope();
  }

 public:
  // "412 requests (96 matched a rule): 80 aborted, 332 passed; 4 earlier keep-alive
  // connections retired" — from a report.
  static std::string describe_interception(const pb::InterceptorReport& r);
};

}  // namespace faultline::injector
