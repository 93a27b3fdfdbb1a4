#include "protocol_fleet.h"

#include <condition_variable>
#include <deque>
#include <set>

#include <grpcpp/grpcpp.h>

#include "faultline/v1/injector_link.grpc.pb.h"

namespace faultline::bench {
namespace pb = ::faultline::v1;
using namespace std::chrono_literals;

namespace {

int64_t now_ns() {
  return MonoClock::now().time_since_epoch().count();
}

void lower_to(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load();
  while (v < cur && !a.compare_exchange_weak(cur, v)) {
  }
}

void raise_to(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load();
  while (v > cur && !a.compare_exchange_weak(cur, v)) {
  }
}

}  // namespace

// One injector's stream. Reads are always outstanding; writes go one at a time (the callback
// API allows one in flight) through a small queue.
class ProtocolClient final
    : public grpc::ClientBidiReactor<pb::InjectorMessage, pb::ControllerMessage> {
 public:
  ProtocolClient(FleetCounters& counters, const std::string& address, std::string node,
                 std::map<std::string, std::string> labels)
      : counters_(counters), node_(std::move(node)), labels_(std::move(labels)) {
    // A channel of its own is not enough: channels with equal arguments share subchannels
    // (and so one TCP connection) through the global pool. A local pool gives each client
    // its own connection, as separate injector processes have.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stub_ = pb::InjectorLink::NewStub(channel_);
  }

  void start() {
    stub_->async()->Connect(&ctx_, this);
    pb::InjectorMessage hello;
    auto* reg = hello.mutable_register_();
    reg->set_node_name(node_);
    reg->mutable_labels()->insert(labels_.begin(), labels_.end());
    // The planner only places a fault on a node that says it can do it.
    for (const char* cap : {"process_kill", "process_pause"}) reg->add_capabilities(cap);
    reg->set_version(FAULTLINE_VERSION);
    write(std::move(hello), Sent::kOther);
    StartRead(&in_);
    // Held until cancel(): heartbeats are written from outside the reactor's own callbacks,
    // and OnDone must not run while one may still start.
    AddHold();
    StartCall();
  }

  void heartbeat_if_due(int64_t now) {
    if (!registered_ || now < next_heartbeat_ns_) return;
    pb::InjectorMessage hb;
    bool idle;
    {
      std::lock_guard lock(mu_);
      hb.mutable_heartbeat()->set_seq(++seq_);
      for (const auto& id : active_) hb.mutable_heartbeat()->add_active_fault_ids(id);
      idle = active_.empty();
    }
    // As the injector does: the idle interval while it holds no faults.
    int64_t interval = idle ? idle_interval_ns_.load() : interval_ns_.load();
    next_heartbeat_ns_ = std::max(next_heartbeat_ns_ + interval, now);
    counters_.heartbeats_sent++;
    write(std::move(hb), Sent::kOther);
  }

  // Ends the stream; call once, after the heartbeat thread has stopped.
  void cancel() {
    ctx_.TryCancel();
    RemoveHold();
  }

  void wait_done() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return done_; });
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is ending; OnDone follows
    switch (in_.msg_case()) {
      case pb::ControllerMessage::kRegistered:
        interval_ns_ = static_cast<int64_t>(in_.registered().heartbeat_interval_ms()) * 1000000;
        idle_interval_ns_ =
            in_.registered().idle_heartbeat_interval_ms() > 0
                ? static_cast<int64_t>(in_.registered().idle_heartbeat_interval_ms()) * 1000000
                : interval_ns_.load();
        next_heartbeat_ns_ = now_ns() + idle_interval_ns_;
        registered_ = true;
        counters_.registered++;
        break;
      case pb::ControllerMessage::kHeartbeatAck:
        counters_.heartbeats_echoed++;
        break;
      case pb::ControllerMessage::kApply:
        lower_to(counters_.applies.first_command_ns, now_ns());
        {
          std::lock_guard lock(mu_);
          active_.insert(in_.apply().fault_id());
        }
        next_heartbeat_ns_ = now_ns();  // its faults changed: beat at the next tick
        ack(in_.apply().command_id(), in_.apply().fault_id(), Sent::kApplyAck);
        break;
      case pb::ControllerMessage::kRevert:
        lower_to(counters_.reverts.first_command_ns, now_ns());
        {
          std::lock_guard lock(mu_);
          active_.erase(in_.revert().fault_id());
        }
        next_heartbeat_ns_ = now_ns();
        ack(in_.revert().command_id(), in_.revert().fault_id(), Sent::kRevertAck);
        break;
      case pb::ControllerMessage::kRenew:
        ack(in_.renew().command_id(), in_.renew().fault_id(), Sent::kOther);
        break;
      case pb::ControllerMessage::kListProcesses:
        ack(in_.list_processes().command_id(), "", Sent::kOther);
        break;
      default:
        break;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      if (ok && sending_ != Sent::kOther) {
        FanoutWindow& w = sending_ == Sent::kApplyAck ? counters_.applies : counters_.reverts;
        raise_to(w.last_ack_ns, now_ns());
        w.acks++;
      }
      if (!ok) queue_.clear();
      if (!take_next_locked()) return;
    }
    StartWrite(&out_);
  }

  void OnDone(const grpc::Status&) override {
    registered_ = false;
    counters_.ended++;
    std::lock_guard lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  enum class Sent { kOther, kApplyAck, kRevertAck };

  void ack(const std::string& command_id, const std::string& fault_id, Sent kind) {
    pb::InjectorMessage reply;
    reply.mutable_ack()->set_command_id(command_id);
    reply.mutable_ack()->set_fault_id(fault_id);
    reply.mutable_ack()->set_ok(true);
    write(std::move(reply), kind);
  }

  // StartWrite is called without the lock: gRPC may run OnWriteDone on this same thread
  // before StartWrite returns.
  void write(pb::InjectorMessage msg, Sent kind) {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(std::move(msg), kind);
      if (writing_ || !take_next_locked()) return;
    }
    StartWrite(&out_);
  }

  // Moves the next queued message into out_; false (and not writing) when there is none.
  bool take_next_locked() {
    writing_ = !queue_.empty();
    if (!writing_) return false;
    out_ = std::move(queue_.front().first);
    sending_ = queue_.front().second;
    queue_.pop_front();
    return true;
  }

  FleetCounters& counters_;
  std::string node_;
  std::map<std::string, std::string> labels_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::InjectorLink::Stub> stub_;
  grpc::ClientContext ctx_;
  pb::ControllerMessage in_;

  std::mutex mu_;  // guards the write queue, active_, seq_ and done_
  std::deque<std::pair<pb::InjectorMessage, Sent>> queue_;
  pb::InjectorMessage out_;
  Sent sending_ = Sent::kOther;
  bool writing_ = false;
  std::set<std::string> active_;
  uint64_t seq_ = 0;
  bool done_ = false;
  std::condition_variable done_cv_;

  std::atomic<bool> registered_{false};
  std::atomic<int64_t> interval_ns_{1000000000};
  std::atomic<int64_t> idle_interval_ns_{1000000000};
  std::atomic<int64_t> next_heartbeat_ns_{0};
};

ProtocolFleet::ProtocolFleet(std::string address, std::string prefix,
                             std::map<std::string, std::string> labels)
    : address_(std::move(address)), prefix_(std::move(prefix)), labels_(std::move(labels)) {
  heartbeats_ = std::thread([this] { heartbeat_loop(); });
}

ProtocolFleet::~ProtocolFleet() {
  stopping_ = true;
  heartbeats_.join();
  std::lock_guard lock(mu_);
  for (auto& c : clients_) c->cancel();
  for (auto& c : clients_) c->wait_done();
}

int ProtocolFleet::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(clients_.size());
}

bool ProtocolFleet::grow_to(int total, Duration timeout) {
  while (size() < total) {
    MonoTime deadline = MonoClock::now() + timeout;
    // In batches, so the controller is not handed a thousand handshakes at once (real
    // fleets roll out over minutes) and a failure shows up early.
    int batch = std::min(total - size(), 50);
    for (int i = 0; i < batch; ++i) {
      std::lock_guard lock(mu_);
      char name[64];
      std::snprintf(name, sizeof name, "%s-%05zu", prefix_.c_str(), clients_.size());
      auto labels = labels_;
      labels["index"] = std::to_string(clients_.size());
      clients_.push_back(std::make_unique<ProtocolClient>(counters_, address_, name, labels));
      clients_.back()->start();
    }
    while (counters_.registered < size()) {
      if (counters_.ended > 0 || MonoClock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }
  return true;
}

void ProtocolFleet::heartbeat_loop() {
  // Clients registered at different moments, so their heartbeats are spread over the
  // interval as a real fleet's are; a 5 ms tick keeps each within 5 ms of its due time.
  while (!stopping_) {
    std::this_thread::sleep_for(5ms);
    int64_t now = now_ns();
    std::lock_guard lock(mu_);
    for (auto& c : clients_) c->heartbeat_if_due(now);
  }
}

}  // namespace faultline::bench
