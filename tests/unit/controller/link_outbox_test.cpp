// LinkOutbox against a fake stream that completes writes the ways gRPC may: inline inside
// StartWrite, on another thread before StartWrite returns, or later. What must hold each time:
// every message is written once and in order, no message slot changes while StartWrite reads
// it, and Finish comes exactly once, after the last write is done.
#include "controller/link/link_outbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace faultline::controller {
namespace {

enum class Completion { kInline, kOtherThreadBeforeReturn, kOtherThreadAfterReturn };

class FakeStream : public StreamOps {
 public:
  explicit FakeStream(Completion how) : how_(how) {}
  ~FakeStream() override { drain(); }
  void attach(LinkOutbox* outbox) { outbox_ = outbox; }

  void start_write(const pb::ControllerMessage* msg) override {
    int depth = ++depth_;
    max_depth_ = std::max(max_depth_.load(), depth);
    std::string before = msg->SerializeAsString();
    {
      std::lock_guard lock(mu_);
      written_.push_back(*msg);
      cv_.notify_all();
    }
    switch (how_) {
      case Completion::kInline:
        outbox_->on_write_done(!fail_writes_);
        break;
      case Completion::kOtherThreadBeforeReturn: {
        std::thread t([this] { outbox_->on_write_done(!fail_writes_); });
        t.join();
        break;
      }
      case Completion::kOtherThreadAfterReturn: {
        std::lock_guard lock(later_mu_);
        later_.emplace_back([this] {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          outbox_->on_write_done(!fail_writes_);
        });
        break;
      }
    }
    // gRPC may read the message until StartWrite returns: it must not have changed.
    if (msg->SerializeAsString() != before) changed_under_write_ = true;
    --depth_;
  }
  void start_read() override {}
  void try_cancel() override { ++cancels_; }
  void finish(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    ++finishes_;
    status_ = status;
    cv_.notify_all();
  }

  std::vector<pb::ControllerMessage> written() {
    std::lock_guard lock(mu_);
    return written_;
  }
  void wait_finished() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return finishes_ > 0; });
  }
  // Waits (5 s at most) until `done` holds for what was written.
  template <typename Pred>
  void wait_written(Pred done) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return done(written_); });
  }
  // Joins the completion threads: the outbox must outlive them.
  void drain() {
    for (;;) {
      std::vector<std::thread> batch;
      {
        std::lock_guard lock(later_mu_);
        batch.swap(later_);
      }
      if (batch.empty()) return;
      for (auto& t : batch) t.join();
    }
  }

  const Completion how_;
  bool fail_writes_ = false;
  std::atomic<bool> changed_under_write_{false};
  std::atomic<int> depth_{0};
  std::atomic<int> max_depth_{0};
  std::atomic<int> cancels_{0};
  int finishes_ = 0;
  grpc::Status status_;

 private:
  LinkOutbox* outbox_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<pb::ControllerMessage> written_;
  std::mutex later_mu_;
  std::vector<std::thread> later_;
};

pb::ControllerMessage numbered(int n) {
  pb::ControllerMessage msg;
  msg.mutable_heartbeat_ack()->set_seq(static_cast<uint64_t>(n));
  return msg;
}

class LinkOutboxTest : public ::testing::TestWithParam<Completion> {};

TEST_P(LinkOutboxTest, WritesEveryMessageOnceInOrderWithoutChangingOneBeingWritten) {
  FakeStream stream(GetParam());
  LinkOutbox outbox(stream, "peer", OutboxLimits{});
  stream.attach(&outbox);
  // Two writers race the completions: each write is queued behind the one in flight.
  std::thread a([&] {
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(outbox.write(numbered(i)));
  });
  std::thread b([&] {
    for (int i = 1000; i < 1200; ++i) ASSERT_TRUE(outbox.write(numbered(i)));
  });
  a.join();
  b.join();
  stream.wait_written([](const auto& w) { return w.size() >= 400; });
  outbox.end(grpc::Status::OK, false);
  stream.wait_finished();
  stream.drain();

  auto written = stream.written();
  ASSERT_EQ(written.size(), 400u);
  std::vector<uint64_t> from_a, from_b;
  for (const auto& m : written) {
    uint64_t seq = m.heartbeat_ack().seq();
    (seq < 1000 ? from_a : from_b).push_back(seq);
  }
  ASSERT_EQ(from_a.size(), 200u);
  ASSERT_EQ(from_b.size(), 200u);
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(from_a[i], i);
    EXPECT_EQ(from_b[i], 1000 + i);
  }
  EXPECT_FALSE(stream.changed_under_write_);
  // A completion inside StartWrite never starts the next write from within it.
  EXPECT_EQ(stream.max_depth_, 1);
  EXPECT_EQ(stream.finishes_, 1);
  EXPECT_TRUE(stream.status_.ok());
}

TEST_P(LinkOutboxTest, EchoSlotIsNotRewrittenWhileItIsBeingWritten) {
  FakeStream stream(GetParam());
  LinkOutbox outbox(stream, "peer", OutboxLimits{});
  stream.attach(&outbox);
  std::thread beats([&] {
    for (uint64_t seq = 1; seq <= 2000; ++seq) outbox.echo_heartbeat(seq);
  });
  beats.join();
  stream.wait_written(
      [](const auto& w) { return !w.empty() && w.back().heartbeat_ack().seq() == 2000; });
  outbox.end(grpc::Status::OK, false);
  stream.wait_finished();
  stream.drain();
  auto written = stream.written();
  ASSERT_FALSE(written.empty());
  // Echoes may be coalesced (a newer one replaces one not yet written) but never reordered,
  // and the last one is always written.
  for (size_t i = 1; i < written.size(); ++i)
    EXPECT_LT(written[i - 1].heartbeat_ack().seq(), written[i].heartbeat_ack().seq());
  EXPECT_EQ(written.back().heartbeat_ack().seq(), 2000u);
  EXPECT_FALSE(stream.changed_under_write_);
  EXPECT_EQ(stream.finishes_, 1);
}

TEST_P(LinkOutboxTest, FailedWriteEndsTheStreamAndFinishesOnceWithUnavailable) {
  FakeStream stream(GetParam());
  stream.fail_writes_ = true;
  LinkOutbox outbox(stream, "peer", OutboxLimits{});
  stream.attach(&outbox);
  EXPECT_TRUE(outbox.write(numbered(1)));
  stream.wait_finished();
  stream.drain();
  EXPECT_TRUE(outbox.ending());
  EXPECT_FALSE(outbox.write(numbered(2)));
  EXPECT_EQ(stream.written().size(), 1u);
  EXPECT_EQ(stream.finishes_, 1);
  EXPECT_EQ(stream.status_.error_code(), grpc::StatusCode::UNAVAILABLE);
}

INSTANTIATE_TEST_SUITE_P(Completions, LinkOutboxTest,
                         ::testing::Values(Completion::kInline,
                                           Completion::kOtherThreadBeforeReturn,
                                           Completion::kOtherThreadAfterReturn),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case Completion::kInline:
                               return std::string("Inline");
                             case Completion::kOtherThreadBeforeReturn:
                               return std::string("OtherThreadBeforeReturn");
                             default:
                               return std::string("OtherThreadAfterReturn");
                           }
                         });

}  // namespace
}  // namespace faultline::controller
