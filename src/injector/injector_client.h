// The injector's side of the injector link: dials the controller, registers, answers fault
// commands, sends heartbeats, and reconnects. When contact is lost for longer than the grace
// period it reverts every fault by itself (the dead-man's switch).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/duration.h"
#include "injector/fault_engine.h"

namespace faultline::injector {

struct InjectorClientOptions {
  std::string controller_address;  // host:port
  std::string node_name;
  std::map<std::string, std::string> labels;
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration reconnect_backoff = std::chrono::milliseconds(500);
  Duration contact_grace = std::chrono::seconds(5);
};

class InjectorClient {
 public:
  InjectorClient(FaultEngine& engine, InjectorClientOptions options);

  // Serves until stop() is called. Reconnects with backoff when the stream breaks.
  void run();
  // Safe from any thread: ends the current stream and makes run() return.
  void stop();

 private:
  // One stream's life; returns when the stream ends.
  void serve_stream();

  FaultEngine& engine_;
  InjectorClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> stopping_{false};
  std::mutex ctx_mu_;
  grpc::ClientContext* current_ctx_ = nullptr;
  MonoTime last_contact_;
  bool retrying_ = false;  // the last attempt failed before registering
};

}  // namespace faultline::injector
