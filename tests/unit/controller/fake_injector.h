// A fake injector behind the in-process link, for the run engine's parts: it answers every
// command with a FaultAck as a real injector would (apply, revert, renew, list processes),
// records what it was sent, and can be told to refuse, or to drop its connection.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/link/in_process_link.h"
#include "controller/link/injector_registry.h"

namespace faultline::controller::testing {

class FakeInjector {
 public:
  explicit FakeInjector(std::string node, int32_t pid) : node_(std::move(node)), pid_(pid) {}

  // Apply (or revert) is answered with this error instead; "" answers ok.
  void refuse_apply(std::string message) {
    std::lock_guard lock(mu_);
    refuse_apply_ = std::move(message);
  }
  void refuse_revert(std::string message) {
    std::lock_guard lock(mu_);
    refuse_revert_ = std::move(message);
  }
  // What list_processes answers: the process the faults hit, or a new one.
  void lists(int32_t pid, uint64_t start_ticks) {
    std::lock_guard lock(mu_);
    listed_ = {pid, start_ticks};
  }

  pb::FaultAck handle(const pb::ControllerMessage& m) {
    std::lock_guard lock(mu_);
    received_.push_back(m);
    pb::FaultAck ack;
    ack.set_ok(true);
    if (m.has_apply()) {
      ack.set_command_id(m.apply().command_id());
      ack.set_fault_id(m.apply().fault_id());
      if (!refuse_apply_.empty()) return refuse(ack, refuse_apply_);
      held_.insert(m.apply().fault_id());
      auto* p = ack.mutable_state()->add_processes();
      p->set_pid(pid_);
      p->set_start_time_ticks(7);
      ack.mutable_state()->set_summary("paused pid " + std::to_string(pid_));
    } else if (m.has_revert()) {
      ack.set_command_id(m.revert().command_id());
      ack.set_fault_id(m.revert().fault_id());
      if (!refuse_revert_.empty()) return refuse(ack, refuse_revert_);
      held_.erase(m.revert().fault_id());
      ack.mutable_state()->set_summary("resumed pid " + std::to_string(pid_));
    } else if (m.has_renew()) {
      ack.set_command_id(m.renew().command_id());
      ack.set_fault_id(m.renew().fault_id());
      if (!held_.count(m.renew().fault_id())) return refuse(ack, "no such fault");
    } else if (m.has_list_containers()) {
      ack.set_command_id(m.list_containers().command_id());
      if (!refuse_list_.empty()) return refuse(ack, refuse_list_);
      for (const auto& c : containers_) *ack.mutable_state()->add_containers() = c;
    } else if (m.has_list_processes()) {
      ack.set_command_id(m.list_processes().command_id());
      auto* p = ack.mutable_state()->add_processes();
      p->set_pid(listed_.first);
      p->set_start_time_ticks(listed_.second);
      p->set_comm("worker");
    }
    return ack;
  }

  // What list_containers answers: these pods (or containers), or an error.
  void has_pods(const std::vector<std::string>& names) {
    std::lock_guard lock(mu_);
    containers_.clear();
    for (const auto& n : names) {
      pb::TouchedContainer c;
      c.set_runtime("cri");
      c.set_pod_id("id-" + n);
      c.set_pod_namespace("shop");
      c.set_pod_name(n);
      containers_.push_back(c);
    }
  }
  void refuse_list(std::string message) {
    std::lock_guard lock(mu_);
    refuse_list_ = std::move(message);
  }

  // Every command of a kind received so far: apply, revert, renew.
  std::vector<pb::ControllerMessage> received(pb::ControllerMessage::MsgCase kind) const {
    std::lock_guard lock(mu_);
    std::vector<pb::ControllerMessage> out;
    for (const auto& m : received_)
      if (m.msg_case() == kind) out.push_back(m);
    return out;
  }
  std::set<std::string> held() const {
    std::lock_guard lock(mu_);
    return held_;
  }
  const std::string& node() const { return node_; }
  int32_t pid() const { return pid_; }

 private:
  static pb::FaultAck refuse(pb::FaultAck ack, const std::string& message) {
    ack.set_ok(false);
    ack.mutable_error()->set_code(pb::ERROR_CODE_PERMISSION_DENIED);
    ack.mutable_error()->set_message(message);
    return ack;
  }

  std::string node_;
  int32_t pid_;
  mutable std::mutex mu_;
  std::vector<pb::ControllerMessage> received_;
  std::set<std::string> held_;  // applied and not reverted
  std::string refuse_apply_, refuse_revert_, refuse_list_;
  std::vector<pb::TouchedContainer> containers_;
  std::pair<int32_t, uint64_t> listed_{0, 0};
};

// The in-process link to a FakeInjector, with a connection that can be dropped as a gRPC
// stream's can.
class FakeLink : public InProcessInjectorLink {
 public:
  explicit FakeLink(FakeInjector& injector)
      : InProcessInjectorLink(
            {injector.node(), {{"role", "web"}}, {"process_pause"}, "test"},
            [&injector](const pb::ControllerMessage& m) { return injector.handle(m); }) {}
  bool connected() const override { return up_; }
  void disconnect() override { disconnects_++; }
  void drop() { up_ = false; }
  int disconnects() const { return disconnects_; }

 private:
  std::atomic<bool> up_{true};
  std::atomic<int> disconnects_{0};
};

// Nodes n1..nN, each with its injector (pid 100+i) registered behind a FakeLink.
struct FakeFleet {
  explicit FakeFleet(int n) {
    for (int i = 1; i <= n; ++i) {
      injectors.push_back(std::make_unique<FakeInjector>("n" + std::to_string(i), 100 + i));
      links.push_back(std::make_shared<FakeLink>(*injectors.back()));
      registry.add(links.back());
    }
  }
  std::vector<InjectorInfo> infos() const {
    std::vector<InjectorInfo> out;
    for (const auto& l : links) out.push_back(l->info());
    return out;
  }
  FakeInjector& injector(int i) { return *injectors[i - 1]; }
  FakeLink& link(int i) { return *links[i - 1]; }

  std::vector<std::unique_ptr<FakeInjector>> injectors;
  std::vector<std::shared_ptr<FakeLink>> links;
  InjectorRegistry registry;
};

}  // namespace faultline::controller::testing
