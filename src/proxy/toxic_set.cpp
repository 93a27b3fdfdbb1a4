#include "proxy/toxic_set.h"

namespace faultline::proxy {

ToxicSet::Snapshot ToxicSet::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::vector<Toxic> ToxicSet::list() const {
  auto snapshot = current();
  std::vector<Toxic> out;
  for (Stream s : {Stream::kUpstream, Stream::kDownstream})
    for (const auto& t : *snapshot)
      if (t.stream == s) out.push_back(t);
  return out;
}

Result<Toxic> ToxicSet::add(const Toxic& t) {
  std::lock_guard lock(mu_);
  for (const auto& existing : *current_)
    if (existing.name == t.name)
      return Error{ErrorCode::kFailedPrecondition, "toxic already exists"};
  auto next = std::make_shared<std::vector<Toxic>>(*current_);
  next->push_back(t);
  current_ = std::move(next);
  return t;
}

Result<Toxic> ToxicSet::update(const std::string& name, const nlohmann::json& changes) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<Toxic>>(*current_);
  for (auto& t : *next) {
    if (t.name != name) continue;
    auto updated = toxic_updated(t, changes);
    if (!updated) return updated.error();
    t = *updated;
    current_ = std::move(next);
    return t;
  }
  return Error{ErrorCode::kNotFound, "toxic not found"};
}

Result<Toxic> ToxicSet::find(const std::string& name) const {
  auto snapshot = current();
  for (const auto& t : *snapshot)
    if (t.name == name) return t;
  return Error{ErrorCode::kNotFound, "toxic not found"};
}

Status ToxicSet::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<Toxic>>();
  for (const auto& t : *current_)
    if (t.name != name) next->push_back(t);
  if (next->size() == current_->size()) return Error{ErrorCode::kNotFound, "toxic not found"};
  current_ = std::move(next);
  return Ok{};
}

void ToxicSet::clear() {
  std::lock_guard lock(mu_);
  current_ = std::make_shared<const std::vector<Toxic>>();
}

}  // namespace faultline::proxy
