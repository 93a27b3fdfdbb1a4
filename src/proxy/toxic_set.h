// The toxics of one proxy. Every connection's pumps read the current list for each chunk they
// forward, so a toxic added, changed or removed takes effect on connections already open, not
// only on new ones. Readers get an immutable snapshot; writers swap it under a lock.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "proxy/toxic.h"

namespace faultline::proxy {

class ToxicSet {
 public:
  using Snapshot = std::shared_ptr<const std::vector<Toxic>>;

  ToxicSet() : current_(std::make_shared<const std::vector<Toxic>>()) {}

  Snapshot current() const;
  // Upstream toxics first, then downstream, each in the order they were added (Toxiproxy's).
  std::vector<Toxic> list() const;
  // kFailedPrecondition when a toxic of that name exists.
  Result<Toxic> add(const Toxic& t);
  // kNotFound when there is none of that name.
  Result<Toxic> update(const std::string& name, const nlohmann::json& changes);
  Result<Toxic> find(const std::string& name) const;
  Status remove(const std::string& name);
  void clear();

 private:
  mutable std::mutex mu_;
  Snapshot current_;
};

}  // namespace faultline::proxy
