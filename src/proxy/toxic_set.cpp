#include "proxy/toxic_set.h"

#include <algorithm>
#include <chrono>

#include "proxy/lease_sweeper.h"

namespace faultline::proxy {

namespace {

// The rule an http_abort toxic's pumps use; the toxic was checked when it was read, so this
// cannot fail here.
std::shared_ptr<const HttpAbortRule> rule_of(const Toxic& t) {
  if (t.type != "http_abort") return nullptr;
  auto rule = HttpAbortRule::make(t);
  return rule ? std::make_shared<const HttpAbortRule>(std::move(*rule)) : nullptr;
}

}  // namespace

int64_t ToxicSet::clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ToxicSet::Snapshot ToxicSet::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void ToxicSet::publish_locked(std::shared_ptr<const std::vector<ToxicEntry>> next) {
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (const auto& e : *next)
    if (e.lease_end_ns > 0) earliest = std::min(earliest, e.lease_end_ns);
  current_ = std::move(next);
  next_lease_end_ns_.store(earliest, std::memory_order_relaxed);
}

std::vector<Toxic> ToxicSet::list() const {
  auto snapshot = current();
  std::vector<Toxic> out;
  for (Stream s : {Stream::kUpstream, Stream::kDownstream})
    for (const auto& e : *snapshot)
      if (e.toxic.stream == s) out.push_back(e.toxic);
  return out;
}

Result<Toxic> ToxicSet::add(const Toxic& t) {
  ToxicEntry entry{t, std::make_shared<ToxicCounts>(), rule_of(t),
                   lease_end_ns(t.lease_ms, clock_ns())};
  std::lock_guard lock(mu_);
  for (const auto& existing : *current_)
    if (existing.toxic.name == t.name)
      return Error{ErrorCode::kFailedPrecondition, "toxic already exists"};
  auto next = std::make_shared<std::vector<ToxicEntry>>(*current_);
  next->push_back(std::move(entry));
  publish_locked(std::move(next));
  return t;
}

Result<Toxic> ToxicSet::update(const std::string& name, const nlohmann::json& changes) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<ToxicEntry>>(*current_);
  for (auto& e : *next) {
    if (e.toxic.name != name) continue;
    auto updated = toxic_updated(e.toxic, changes);
    if (!updated) return updated.error();
    e.toxic = *updated;
    e.http_abort = rule_of(e.toxic);
    if (changes.contains("lease_ms") && !changes["lease_ms"].is_null())
      e.lease_end_ns = lease_end_ns(e.toxic.lease_ms, clock_ns());
    Toxic out = e.toxic;
    publish_locked(std::move(next));
    return out;
  }
  return Error{ErrorCode::kNotFound, "toxic not found"};
}

Result<Toxic> ToxicSet::find(const std::string& name) const {
  auto snapshot = current();
  for (const auto& e : *snapshot)
    if (e.toxic.name == name) return e.toxic;
  return Error{ErrorCode::kNotFound, "toxic not found"};
}

Result<ToxicSet::Counts> ToxicSet::counts(const std::string& name) const {
  auto snapshot = current();
  for (const auto& e : *snapshot)
    if (e.toxic.name == name)
      return Counts{e.counts->connections.load(std::memory_order_relaxed),
                    e.counts->requests.load(std::memory_order_relaxed),
                    e.counts->aborted.load(std::memory_order_relaxed)};
  return Error{ErrorCode::kNotFound, "toxic not found"};
}

Status ToxicSet::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<ToxicEntry>>();
  for (const auto& e : *current_)
    if (e.toxic.name != name) next->push_back(e);
  if (next->size() == current_->size()) return Error{ErrorCode::kNotFound, "toxic not found"};
  publish_locked(std::move(next));
  return Ok{};
}

void ToxicSet::clear() {
  std::lock_guard lock(mu_);
  publish_locked(std::make_shared<const std::vector<ToxicEntry>>());
}

std::vector<std::string> ToxicSet::expire_leases(int64_t now_ns) {
  std::vector<std::string> gone;
  if (next_lease_end_ns_.load(std::memory_order_relaxed) > now_ns) return gone;
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<ToxicEntry>>();
  for (const auto& e : *current_) {
    if (e.lease_end_ns > 0 && e.lease_end_ns <= now_ns)
      gone.push_back(e.toxic.name);
    else
      next->push_back(e);
  }
  publish_locked(std::move(next));
  return gone;
}

}  // namespace faultline::proxy
