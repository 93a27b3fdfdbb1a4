#include "injector/injector_client.h"

#include <condition_variable>
#include <thread>

#include "common/log.h"
#include "faultline/v1/injector_link.grpc.pb.h"
#include "injector/command_handler.h"
#include "injector/injector_metrics.h"

namespace faultline::injector {

Result<std::unique_ptr<InjectorClient>> InjectorClient::create(FaultEngine& engine,
                                                               InjectorClientOptions options) {
  auto channel = secure_client_channel(options.controller_address, options.transport);
  if (!channel) return channel.error();
  return std::unique_ptr<InjectorClient>(
      new InjectorClient(engine, std::move(options), std::move(*channel)));
}

InjectorClient::InjectorClient(FaultEngine& engine, InjectorClientOptions options,
                               std::shared_ptr<grpc::Channel> channel)
    : engine_(engine), options_(std::move(options)), channel_(std::move(channel)) {
  touch();
}

void InjectorClient::stop() {
  stopping_ = true;
  std::lock_guard lock(ctx_mu_);
  stop_cv_.notify_all();
  if (current_ctx_) current_ctx_->TryCancel();
}

void InjectorClient::run() {
  spdlog::info("injector link controller={} transport={}", options_.controller_address,
               options_.transport.insecure ? "plaintext" : "mtls");
  std::thread watchdog([this] { watch_contact(); });
  while (!stopping_) {
    Duration wait = serve_stream();
    if (stopping_) break;
    // Sleep in small steps so stop() is honoured promptly.
    auto until = MonoClock::now() + wait;
    while (!stopping_ && MonoClock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  watchdog.join();
}

void InjectorClient::watch_contact() {
  while (!stopping_) {
    // 50 ms while faults are held, so a revert comes at most one tick after the grace. With
    // none held there is nothing to revert, and waking 20 times a second was the largest part
    // of an idle injector's CPU; half the grace (at most 500 ms) is still soon enough: a new
    // fault arrives as a command, which is contact, so the grace cannot run out before the
    // next tick switches back to 50 ms.
    Duration tick = std::chrono::milliseconds(50);
    if (engine_.active_fault_ids().empty())
      tick = std::max(
          tick, std::min<Duration>(options_.contact_grace / 2, std::chrono::milliseconds(500)));
    {
      std::unique_lock lock(ctx_mu_);
      stop_cv_.wait_for(lock, tick, [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    Duration silent = MonoClock::now() - MonoTime(Duration(last_contact_ns_.load()));
    if (silent <= options_.contact_grace || engine_.active_fault_ids().empty()) continue;
    size_t n = engine_.revert_all("lost contact with controller");
    injector_metrics().lease_expiries_total.with({kExpiryContactLost}).inc(static_cast<double>(n));
    spdlog::warn("lost contact with controller silent_for={} grace={} reverted={}",
                 format_duration(silent), format_duration(options_.contact_grace), n);
    // The stream, if any, is not worth keeping: start over with a fresh one.
    std::lock_guard lock(ctx_mu_);
    if (current_ctx_) current_ctx_->TryCancel();
  }
}

// A command may run for its whole timeout: on its own thread, so reverts and renewals that
// arrive meanwhile are answered at once. At most four at a time; more are refused.
template <typename Writer, typename Stream>
void InjectorClient::run_command_async(const pb::ControllerMessage& msg,
                                       const std::shared_ptr<Writer>& writer, Stream* stream) {
  constexpr int kMaxCommands = 4;
  {
    std::lock_guard w(writer->mu);
    if (writer->commands_running >= kMaxCommands) {
      pb::InjectorMessage reply;
      reply.mutable_ack()->set_command_id(msg.run_command().command_id());
      reply.mutable_ack()->mutable_error()->set_message("this injector is already running " +
                                                        std::to_string(kMaxCommands) +
                                                        " commands; try again when one has ended");
      if (writer->alive) stream->Write(reply);
      return;
    }
    ++writer->commands_running;
  }
  std::thread([this, msg, writer, stream] {
    pb::InjectorMessage reply;
    *reply.mutable_ack() = handle_command(engine_, msg);
    std::lock_guard w(writer->mu);
    --writer->commands_running;
    if (writer->alive) stream->Write(reply);
  }).detach();
}

Duration InjectorClient::serve_stream() {
  // Drive the connection (TCP and TLS handshakes) before opening the stream: a fail-fast
  // stream on a channel in TRANSIENT_FAILURE cancels each new attempt mid-handshake and the
  // injector would never get back in.
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(1))) {
    if (!retrying_)
      spdlog::warn("controller unreachable controller={}", options_.controller_address);
    retrying_ = true;
    return options_.reconnect_backoff;
  }
  auto stub = pb::InjectorLink::NewStub(channel_);
  grpc::ClientContext ctx;
  {
    std::lock_guard lock(ctx_mu_);
    if (stopping_) return {};
    current_ctx_ = &ctx;
  }
  auto stream = stub->Connect(&ctx);
  // Writes to the stream, from this thread, the heartbeat and command workers. `alive` turns
  // false (under the mutex) before the stream goes away, so a worker finishing late writes
  // nothing.
  struct Writer {
    std::mutex mu;
    bool alive = true;
    int commands_running = 0;
  };
  auto writer = std::make_shared<Writer>();
  std::mutex& write_mu = writer->mu;

  pb::InjectorMessage hello;
  auto* reg = hello.mutable_register_();
  reg->set_node_name(options_.node_name);
  reg->mutable_labels()->insert(options_.labels.begin(), options_.labels.end());
  for (const auto& cap : engine_.capabilities()) reg->add_capabilities(cap);
  reg->set_version(FAULTLINE_VERSION);
  // What the ledger made this injector take back at start: the controller records it.
  for (const auto& id : engine_.recovered_fault_ids()) reg->add_recovered_fault_ids(id);

  pb::ControllerMessage msg;
  bool registered = stream->Write(hello) && stream->Read(&msg) && msg.has_registered();
  std::mutex hb_mu;
  std::condition_variable hb_cv;
  bool stream_done = false;
  bool beat_now = false;
  std::thread heartbeat;
  if (registered) {
    touch();
    injector_metrics().controller_connected.set(1);
    // The controller judges silence, so its intervals are the ones kept (an older controller
    // sends none: ours then).
    const auto& r = msg.registered();
    Duration holding = r.heartbeat_interval_ms() > 0
                           ? Duration(std::chrono::milliseconds(r.heartbeat_interval_ms()))
                           : options_.heartbeat_interval;
    Duration idle = r.idle_heartbeat_interval_ms() > 0
                        ? Duration(std::chrono::milliseconds(r.idle_heartbeat_interval_ms()))
                        : holding;
    spdlog::info("registered with controller node={} controller={} heartbeat={} idle_heartbeat={}",
                 options_.node_name, options_.controller_address, format_duration(holding),
                 format_duration(idle));
    heartbeat = std::thread([&, holding, idle] {
      uint64_t seq = 0;
      std::unique_lock lock(hb_mu);
      for (;;) {
        // While it holds faults the injector beats often: the echoes are its dead-man's
        // switch. Idle, a beat only says it is alive.
        Duration wait = engine_.active_fault_ids().empty() ? idle : holding;
        hb_cv.wait_for(lock, wait, [&] { return stream_done || beat_now; });
        if (stream_done) break;
        beat_now = false;
        pb::InjectorMessage hb;
        hb.mutable_heartbeat()->set_seq(++seq);
        for (const auto& id : engine_.active_fault_ids())
          hb.mutable_heartbeat()->add_active_fault_ids(id);
        std::lock_guard w(write_mu);
        if (!stream->Write(hb)) break;
      }
    });
    // After a command the faults may have changed: beat now, so the controller hears which
    // interval applies, and start waiting by the new one.
    auto beat_soon = [&] {
      {
        std::lock_guard lock(hb_mu);
        beat_now = true;
      }
      hb_cv.notify_all();
    };
    while (stream->Read(&msg)) {
      touch();
      if (msg.has_heartbeat_ack()) continue;
      if (msg.has_run_command()) {
        run_command_async(msg, writer, stream.get());
        continue;
      }
      pb::InjectorMessage reply;
      *reply.mutable_ack() = handle_command(engine_, msg);
      bool changes_faults = msg.has_apply() || msg.has_revert();
      {
        std::lock_guard w(write_mu);
        if (!stream->Write(reply)) break;
      }
      if (changes_faults) beat_soon();
    }
  }
  {
    std::lock_guard lock(hb_mu);
    stream_done = true;
  }
  hb_cv.notify_all();
  if (heartbeat.joinable()) heartbeat.join();
  injector_metrics().controller_connected.set(0);
  {
    std::lock_guard w(write_mu);
    writer->alive = false;
    stream->WritesDone();
  }
  grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(ctx_mu_);
    current_ctx_ = nullptr;
  }
  if (stopping_) return {};
  bool refused = !registered && (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                                 status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  if (refused) {
    refused_wait_ = std::min(std::max(2 * refused_wait_, Duration(std::chrono::seconds(1))),
                             options_.refused_backoff_max);
    spdlog::error("controller refused this injector node={} next_try_in={} error=\"{}\"",
                  options_.node_name, format_duration(refused_wait_), status.error_message());
    retrying_ = true;
    return refused_wait_;
  }
  if (registered) refused_wait_ = {};
  // Say it once per outage, not on every retry.
  if (registered || !retrying_) {
    spdlog::warn("controller stream ended code={} error=\"{}\"",
                 static_cast<int>(status.error_code()), status.error_message());
  } else {
    spdlog::debug("controller still unreachable error=\"{}\"", status.error_message());
  }
  retrying_ = !registered;
  return options_.reconnect_backoff;
}

}  // namespace faultline::injector
