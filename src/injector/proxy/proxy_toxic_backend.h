// proxy_toxic: adds a toxic to a TCP fault proxy on this node's loopback through its API
// (Toxiproxy's), or takes the proxy down, and takes it back on revert. The toxic is named
// after the fault id, so revert and crash recovery find it from the id alone. With
// `faultline proxy`, the toxic, or the proxy's `enabled: false` for `down`, also carries a
// lease the backend renews every couple of seconds: if the injector or embedded run dies and
// nothing restarts it, the proxy itself drops the toxic, or enables itself again, when the
// lease runs out (Toxiproxy ignores the field; there only the ledger's recovery at the next
// start takes it back).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
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
  // One leased fault's renewals. `mu` is held through each renewal call, and take_back takes
  // it to set `ended` before it takes the fault back: a renewal is either over before the
  // revert's call or never sent, so a renewal of a down cannot disable a proxy the revert has
  // just enabled (nor renew a toxic it has just removed).
  struct Renewal {
    std::mutex mu;
    bool ended = false;
  };
  struct Held {
    std::string api, proxy;
    std::string toxic;  // empty for `down`: the lease is the proxy's, on `enabled: false`
    std::shared_ptr<Renewal> renewal;
  };
  // Starts renewing the fault's lease.
  void hold(const std::string& fault_id, Held held);
  Status take_back(const std::string& fault_id, const pb::FaultSpec& spec);
  // After an apply whose call got no answer: the proxy may have done it anyway.
  void undo_unanswered(const std::string& fault_id, const pb::FaultSpec& spec);
  void renew_loop();
  void renew_one(const std::string& fault_id, const Held& h);

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Held> leased_;  // fault id -> toxic or down whose lease is renewed
  std::thread renewer_;
  bool stopping_ = false;
};

}  // namespace faultline::injector
