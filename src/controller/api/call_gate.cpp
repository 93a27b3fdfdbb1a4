#include "controller/api/call_gate.h"

#include "common/log.h"

namespace faultline::controller {

CallGate::CallGate(const ApiAccess& access, CallOrigin origin, std::string action, Role needed,
                   std::string target)
    : access_(access), action_(std::move(action)), target_(std::move(target)) {
  caller_.peer = origin.peer;
  if (origin.certificate) {
    // The connection first: a token is only worth something over authenticated TLS.
    if (!*origin.certificate) {
      refuse(Refusal::kUnauthenticated, origin.certificate->error().message);
      return;
    }
    const std::string& cn = **origin.certificate;
    caller_.peer += " cert CN=" + cn;
    if (!is_api_client_name(cn)) {
      refuse(Refusal::kForbidden,
             "the certificate CN=" + cn +
                 " is not an API client's: only certificates named faultline-... (the CLI's "
                 "from scripts/gen-certs.sh is faultline-cli) may call the API; an injector's "
                 "node certificate may only connect as its injector");
      return;
    }
  }
  auto who = access_.tokens.authenticate(origin.authorization, caller_.peer);
  if (!who) {
    refuse(Refusal::kUnauthenticated, who.error().message);
    return;
  }
  std::string peer = caller_.peer;
  caller_ = *who;
  caller_.peer = peer;
  if (caller_.role < needed) refuse(Refusal::kForbidden, role_refusal(caller_, needed, action_));
}

void CallGate::refuse(Refusal why, std::string message) {
  refusal_ = why;
  refusal_message_ = std::move(message);
  record({CallOutcome::kDenied, refusal_message_}, "");
}

void CallGate::finish(const CallOutcome& outcome, const std::string& detail) {
  record(outcome, detail);
}

void CallGate::record(const CallOutcome& outcome, const std::string& detail) {
  std::string text = outcome.kind == CallOutcome::kOk       ? "ok"
                     : outcome.kind == CallOutcome::kDenied ? "denied: " + outcome.message
                                                            : "error: " + outcome.message;
  if (outcome.kind != CallOutcome::kOk)
    spdlog::warn("api call action={} caller={} peer={} outcome=\"{}\"", action_, caller_.name,
                 caller_.peer, text);
  if (!access_.audit) return;
  const AuditEntry e{caller_.name.empty() ? "unauthenticated" : caller_.name,
                     caller_.name.empty() ? "" : role_name(caller_.role),
                     action_,
                     target_,
                     caller_.peer,
                     text,
                     detail};
  Status s = outcome.kind == CallOutcome::kDenied && access_.refusals ? access_.refusals->record(e)
                                                                      : access_.audit->append(e);
  if (!s) spdlog::error("audit append failed action={} error=\"{}\"", action_, s.error().message);
}

}  // namespace faultline::controller
