#pragma once

#include "controller/store/run_store.h"

namespace faultline::controller {

// One `<run id>.json` per run (the protobuf JSON mapping of v1.Run, what `faultline journal`
// prints), written to a temporary name, fsync'd and renamed, so a crash never leaves half a file.
class FileRunStore : public RunStore {
 public:
  explicit FileRunStore(std::string dir);
  Status save(const v1::Run& run) override;
  std::optional<v1::Run> load(const std::string& run_id) const override;
  std::vector<v1::Run> list(size_t limit) const override;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The protobuf JSON mapping of a run (field names as in the .proto), what the store keeps and
// `faultline journal` prints.
std::string run_to_json(const v1::Run& run);

// <state dir>/journals
std::string default_run_store_dir();

}  // namespace faultline::controller
