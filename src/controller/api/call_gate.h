// One API call as the controller's rules see it, whichever transport it came by (gRPC, or the
// dashboard's HTTP API): who is calling (client certificate when the transport checks one,
// then the bearer token), whether their role allows the action, and the audit trail entry of
// how it ended. Refused calls end before the handler does anything.
#pragma once

#include <optional>
#include <string>

#include "common/audit_log.h"
#include "controller/auth/refusal_throttle.h"
#include "controller/auth/token_authority.h"

namespace faultline::controller {

// What the gate needs, shared by every transport: refusals are counted per peer across them.
struct ApiAccess {
  const TokenAuthority& tokens;
  AuditLog* audit = nullptr;            // null: no trail kept
  RefusalThrottle* refusals = nullptr;  // null: refusals go to the trail straight
};

// Where a call came from, as its transport saw it.
struct CallOrigin {
  std::string peer;
  // Checked by the transport (mTLS): the verified certificate's CN, or why it was refused.
  // Unset when the transport checks none (--insecure, or the dashboard's token sign-in).
  std::optional<Result<std::string>> certificate;
  // The `authorization` header or metadata value; unset when there was none.
  std::optional<std::string> authorization;
};

// How a call ended, for the trail: ok, refused (authentication or role), or an error.
struct CallOutcome {
  enum Kind { kOk, kDenied, kError } kind = kOk;
  std::string message;
};

class CallGate {
 public:
  enum class Refusal { kNone, kUnauthenticated, kForbidden };

  CallGate(const ApiAccess& access, CallOrigin origin, std::string action, Role needed,
           std::string target);

  bool allowed() const { return refusal_ == Refusal::kNone; }
  Refusal refusal() const { return refusal_; }
  const std::string& refusal_message() const { return refusal_message_; }
  const Caller& caller() const { return caller_; }
  void set_target(std::string target) { target_ = std::move(target); }
  // Writes the trail entry for the call's end (once per call; a refusal has written its own).
  void finish(const CallOutcome& outcome, const std::string& detail = "");

 private:
  void refuse(Refusal why, std::string message);
  void record(const CallOutcome& outcome, const std::string& detail);

  const ApiAccess& access_;
  std::string action_;
  std::string target_;
  Caller caller_;
  Refusal refusal_ = Refusal::kNone;
  std::string refusal_message_;
};

}  // namespace faultline::controller
