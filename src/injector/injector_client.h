// The injector's side of the injector link: dials the controller, registers, answers fault
// commands, sends heartbeats, and reconnects. When contact is lost for longer than the grace
// period it reverts every fault by itself (the dead-man's switch).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/duration.h"
#include "common/transport_security.h"
#include "faultline/v1/injector_link.pb.h"
#include "injector/fault_engine.h"

namespace faultline::injector {

struct InjectorClientOptions {
  std::string controller_address;  // host:port
  std::string node_name;
  std::map<std::string, std::string> labels;
  // Used only with a controller that names no interval in its welcome (Registered).
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration reconnect_backoff = std::chrono::milliseconds(500);
  // Refused by the controller (certificate, node name): retrying soon will be refused again
  // and only fills the controller's log, so the wait doubles from 1 s up to this.
  Duration refused_backoff_max = std::chrono::seconds(60);
  // Without word from the controller (a command, or the echo of a heartbeat) for this
  // long while holding faults, the injector reverts them all.
  Duration contact_grace = std::chrono::seconds(5);
  TransportSecurity transport;
};

class InjectorClient {
 public:
  // Fails when the TLS files cannot be read.
  static Result<std::unique_ptr<InjectorClient>> create(FaultEngine& engine,
                                                        InjectorClientOptions options);

  // Serves until stop() is called. Reconnects with backoff when the stream breaks.
  void run();
  // Safe from any thread: ends the current stream and makes run() return.
  void stop();

 private:
  InjectorClient(FaultEngine& engine, InjectorClientOptions options,
                 std::shared_ptr<grpc::Channel> channel);
  // One stream's life; returns when the stream ends, with how long to wait before the next.
  Duration serve_stream();
  template <typename Writer, typename Stream>
  void run_command_async(const pb::ControllerMessage& msg, const std::shared_ptr<Writer>& writer,
                         Stream* stream);
  // The dead-man's switch: runs beside the streams, whatever state they are in (a dial
  // that hangs on a dropping firewall must not keep faults alive).
  void watch_contact();
  void touch() { last_contact_ns_ = MonoClock::now().time_since_epoch().count(); }

  FaultEngine& engine_;
  InjectorClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> stopping_{false};
  std::mutex ctx_mu_;
  std::condition_variable stop_cv_;  // wakes the contact watchdog for stop()
  grpc::ClientContext* current_ctx_ = nullptr;
  std::atomic<int64_t> last_contact_ns_{0};
  bool retrying_ = false;    // the last attempt failed before registering
  Duration refused_wait_{};  // 0 until the controller refuses this injector
};

}  // namespace faultline::injector
