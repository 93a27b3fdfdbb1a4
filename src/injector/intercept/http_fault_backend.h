// http_fault: the scope's HTTP connections are redirected (nat REDIRECT, in faultline's own
// chains) to a faultline-intercept helper started in the scope's network namespace, which
// applies the fault's rules request by request. On revert the helper stops new redirects at
// once (new connections go direct), drains the connections it holds, removes its chains and
// exits; the injector removes whatever is left.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "injector/fault_backend.h"
#include "injector/intercept/interceptor_process.h"

namespace faultline::injector {

class HttpFaultBackend : public FaultBackend {
 public:
  std::string kind() const override { return "http_fault"; }
  bool available() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<intercept::InterceptorProcess>> helpers_;
};

// "412 requests: 80 aborted, 332 passed; 4 earlier connections retired" — from a report.
std::string describe_interception(const pb::InterceptorReport& r);

}  // namespace faultline::injector
