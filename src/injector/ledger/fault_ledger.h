// The crash-safe record of what this injector has applied. Each owner (an injector process)
// writes under its own directory, named by its PID and start time, so two injectors (or two
// embedded runs) never share records, and a directory whose owner is no longer alive is
// exactly the set of faults a crash left behind.
//
//   <root>/<pid>.<start_ticks>/<fault_id>.entry     one LedgerEntry, replaced atomically
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "faultline/v1/ledger.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

class FaultLedger {
 public:
  // Creates this process's directory under `root` (and `root` itself).
  static Result<FaultLedger> open(const std::string& root);

  // Before apply: the fault is about to be installed. fsync'd before returning.
  Status record_intent(const std::string& fault_id, const pb::FaultSpec& spec);
  // After apply, before the ack: what was installed. fsync'd before returning.
  Status record_applied(const std::string& fault_id, const pb::FaultSpec& spec,
                        const pb::AppliedState& state);
  // After a successful revert.
  Status forget(const std::string& fault_id);

  // Removes this process's directory if it holds no entry (a clean shutdown).
  void close();

  const std::string& dir() const { return dir_; }

  // Entries left by owners that are no longer alive, oldest owner first.
  struct Orphan {
    std::string path;  // the entry file; remove with remove_orphan() once reverted
    pb::LedgerEntry entry;
  };
  static std::vector<Orphan> orphans(const std::string& root);
  // Deletes the entry, and its owner's directory once empty.
  static void remove_orphan(const Orphan& orphan);

 private:
  explicit FaultLedger(std::string dir) : dir_(std::move(dir)) {}
  Status write(const pb::LedgerEntry& entry);

  std::string dir_;
};

// The default ledger root: $FAULTLINE_STATE_DIR/ledger, else /var/lib/faultline/ledger.
std::string default_ledger_root();

}  // namespace faultline::injector
