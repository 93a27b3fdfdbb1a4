// What http_fault and dns_fault share: a faultline-intercept helper started in the scope's
// network namespace, REDIRECT chains that send the scope's traffic to it, a watcher that takes
// the chains out if the helper dies, reports for the journal, and the way back (the helper
// stops redirects, drains, removes its chains; what is left is removed here). Each kind says
// what to start, which chains, and how to put a report in words.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "injector/fault_backend.h"
#include "injector/intercept/interceptor_process.h"
#include "injector/network/iptables_chain.h"

namespace faultline::injector {

class InterceptingBackend : public FaultBackend {
 public:
  bool available() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 protected:
  struct Plan {
    pb::NetworkScope scope;
    pb::InterceptorStart start;  // fault_id, mark and seed are filled in by apply
    std::string summary;         // "intercepting HTTP on ..."
  };
  virtual Result<Plan> plan(const pb::FaultSpec& spec) = 0;
  // The chains, given the ports the helper reported.
  virtual std::vector<ChainSpec> chains(const std::string& fault_id, const Plan& plan,
                                        const pb::InterceptorReport& ports) = 0;
  virtual std::string describe(const pb::InterceptorReport& r) const = 0;
  virtual uint64_t drain_ms(const pb::FaultSpec& spec) const = 0;
  // The chain purposes ('h', 'l', 'd') its chains are named with, for crash recovery.
  virtual std::vector<char> purposes() const = 0;
  virtual const pb::NetworkScope& scope_of(const pb::FaultSpec& spec) const = 0;
  // What else to do once the chains are in, in the namespace at `netns_path`; a note for the
  // fault's summary. Nothing by default.
  virtual std::string after_rules_in(const std::string& netns_path, const Plan& plan) { return ""; }
  // What else to undo once the chains are out without the helper's help (it died, or the
  // injector did): run in the namespace at `netns_path`. Nothing by default.
  virtual std::function<void()> after_rules_out(const std::string& netns_path,
                                                const pb::FaultSpec& spec) const {
    return nullptr;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<intercept::InterceptorProcess>> helpers_;
};

}  // namespace faultline::injector
