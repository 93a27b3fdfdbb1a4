// dns_fault: the scope's DNS queries (UDP and TCP, to each of its servers) are redirected to a
// faultline-intercept helper in the scope's network namespace, which answers them by the
// fault's rules or forwards them (intercepting_backend.h has the life cycle).
#pragma once

#include "injector/intercept/intercepting_backend.h"

namespace faultline::injector {

class DnsFaultBackend : public InterceptingBackend {
 public:
  std::string kind() const override { return "dns_fault"; }
  // "120 queries: 40 answered by the rules, 80 forwarded" — from a report.
  static std::string describe_queries(const pb::InterceptorReport& r);

 protected:
  Result<Plan> plan(const pb::FaultSpec& spec) override;
  std::vector<ChainSpec> chains(const std::string& fault_id, const Plan& plan,
                                const pb::InterceptorReport& ports) override;
  std::string describe(const pb::InterceptorReport& r) const override {
    return describe_queries(r);
  }
  uint64_t drain_ms(const pb::FaultSpec& spec) const override {
    return spec.dns_fault().drain_ms();
  }
  std::vector<char> purposes() const override { return {'d'}; }
  const pb::NetworkScope& scope_of(const pb::FaultSpec& spec) const override {
    return spec.dns_fault().scope();
  }
  std::string after_rules_in(const std::string& netns_path, const Plan& plan) override;
  std::function<void()> after_rules_out(const std::string& netns_path,
                                        const pb::FaultSpec& spec) const override;
};

// The nameservers a resolv.conf names (IP literals only, at most three, as glibc reads).
std::vector<std::string> resolv_conf_servers(const std::string& text);

}  // namespace faultline::injector
