#include "controller/halt_switch.h"

#include "common/log.h"
#include "common/time_util.h"

namespace faultline::controller {

Status check_halt_reason(const std::string& reason) {
  if (reason.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "a halt needs a reason (--reason TEXT): it is shown to everyone refused");
  if (reason.size() > 500)
    return make_error(ErrorCode::kInvalidArgument, "the halt reason is longer than 500 characters");
  for (unsigned char c : reason)
    if (c < 0x20 || c == 0x7f)
      return make_error(ErrorCode::kInvalidArgument,
                        "the halt reason holds a control character (newlines included)");
  return Ok{};
}

std::string describe_halt(const HaltRecord& h) {
  return "halted by " + h.halted_by + " at " + format_utc_millis(h.halted_unix_ms) + ": " +
         h.reason;
}

void HaltSwitch::attach(HaltStore* store) {
  std::lock_guard lock(mu_);
  store_ = store;
  if (!store_) return;
  if (auto stored = store_->load_halt()) {
    state_ = *stored;
    if (state_.halted)
      spdlog::warn("the fleet is halted (kept from before) {}", describe_halt(state_));
  }
}

HaltRecord HaltSwitch::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool HaltSwitch::halted() const {
  std::lock_guard lock(mu_);
  return state_.halted;
}

Status HaltSwitch::pull(const std::string& by, const std::string& reason, int64_t now_unix_ms) {
  std::lock_guard lock(mu_);
  state_.halted = true;
  state_.halted_by = by;
  state_.halted_unix_ms = now_unix_ms;
  state_.reason = reason;
  state_.lifted_by.clear();
  state_.lifted_unix_ms = 0;
  if (!store_) return Ok{};
  return store_->save_halt(state_);
}

Result<HaltRecord> HaltSwitch::lift(const std::string& by, int64_t now_unix_ms) {
  std::lock_guard lock(mu_);
  if (!state_.halted) return make_error(ErrorCode::kFailedPrecondition, "the fleet is not halted");
  HaltRecord lifted = state_;
  lifted.halted = false;
  lifted.lifted_by = by;
  lifted.lifted_unix_ms = now_unix_ms;
  // Kept first: a lift the store forgot would come back halted after a restart, which is safe,
  // but the admin must hear it did not take.
  if (store_)
    if (Status s = store_->save_halt(lifted); !s) return s.error();
  state_ = lifted;
  return state_;
}

std::string HaltSwitch::refusal() const {
  std::lock_guard lock(mu_);
  return "the fleet is " + describe_halt(state_) +
         "; no run starts until an admin lifts it (faultline unhalt)";
}

}  // namespace faultline::controller
