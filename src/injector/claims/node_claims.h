// What the faults on this machine hold, seen by every process that applies faults here (each
// embedded `faultline run` and the injector daemon, when they share a ledger). A
// scope held by one run cannot be faulted by another: a second pause of the same process, or
// a second shaper on the same network namespace, is refused naming the holder, so one run's
// revert can never end another's fault and two faults never fight over the same packets.
//
// Each scope is a file under <ledger root>/claims held with flock(): the kernel drops the lock
// when its process dies, so a kill -9 leaves no claim behind, and nothing needs cleaning up.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::injector {

class NodeClaims {
 public:
  // Creates `dir` (0700) if needed; refuses one that others can write.
  static Result<std::unique_ptr<NodeClaims>> open(const std::string& dir);
  ~NodeClaims();

  // Takes every scope in `keys` for `fault_id` of run `run_id`, all or none. Faults of the same
  // run share a scope (they compose); another run's hold, in this process or another, is
  // kFailedPrecondition naming the holder. `what` describes the fault for that message.
  Status take(const std::string& fault_id, const std::string& run_id, const std::string& what,
              const std::vector<std::string>& keys);
  // Lets go of what `fault_id` took; unknown ids are fine.
  void release(const std::string& fault_id);

  const std::string& dir() const { return dir_; }

 private:
  explicit NodeClaims(std::string dir) : dir_(std::move(dir)) {}
  struct Held {
    int fd = -1;
    std::string run_id;
    std::string holder;  // as written in the file
    std::set<std::string> faults;
  };
  std::string path_of(const std::string& key) const;
  void drop(const std::string& key, const std::string& fault_id);  // under mu_

  std::string dir_;
  std::mutex mu_;
  std::map<std::string, Held> held_;                      // by key
  std::map<std::string, std::vector<std::string>> keys_;  // by fault id
};

}  // namespace faultline::injector
