// proxy_toxic: adds a toxic to a TCP fault proxy on this node's loopback through its API
// (Toxiproxy's), or takes the proxy down, and takes it back on revert. The toxic is named
// after the fault id, so revert and crash recovery find it from the id alone. With
// `faultline proxy`, the toxic also carries a lease the backend renews every couple of
// seconds: if the injector or embedded run dies and nothing restarts it, the proxy itself drops
// the toxic when the lease runs out (Toxiproxy ignores the field; there only the ledger's
// recovery at the next start takes it back).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "injector/fault_backend.h"

namespace faultline::injector {

class ProxyToxicBackend : public FaultBackend {
 public:
  static constexpr uint64_t kLeaseMs = 10000;
  static constexpr uint64_t kRenewEveryMs = 2000;

  ~ProxyToxicBackend() override;

  std::string kind() const override { return "proxy_toxic"; }
  bool available() const override { return true; }  // the proxy does the faulting
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

  // "faultline-<fault id>" with only the characters a URL path takes as they are.
  static std::string toxic_name(const std::string& fault_id);

 private:
  struct Held {
    std::string api, proxy, toxic;
  };
  Status take_back(const std::string& fault_id, const pb::FaultSpec& spec);
  void renew_loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Held> leased_;  // fault id -> toxic whose lease is renewed
  std::thread renewer_;
  bool stopping_ = false;
};

}  // namespace faultline::injector
