// A sent command's answer: bounded by the deadline set when it was sent, so a fan-out that
// reads its answers in turn waits no longer than its slowest node.
#include <gtest/gtest.h>

#include <thread>

#include "controller/link/injector_link.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;

struct Sent {
  std::promise<TimedAck> answer;
  int forgotten = 0;
  PendingAck pending(MonoTime deadline) {
    return PendingAck(answer.get_future(), deadline, [this] {
      ++forgotten;
      return make_error(ErrorCode::kUnavailable, "no answer");
    });
  }
};

TEST(PendingAck, TheDeadlineRunsFromTheSendNotFromTheWait) {
  Sent a, b, c;
  MonoTime deadline = MonoClock::now() + 100ms;
  PendingAck pa = a.pending(deadline), pb = b.pending(deadline), pc = c.pending(deadline);
  EXPECT_FALSE(pa.ready());
  auto first = pa.wait();
  ASSERT_FALSE(first.ack.ok());
  EXPECT_EQ(first.ack.error().message, "no answer");
  EXPECT_EQ(a.forgotten, 1);
  // Sent at the same time: past their deadline too, so reading them does not wait again.
  EXPECT_TRUE(pb.ready());
  EXPECT_TRUE(pc.ready());
  EXPECT_FALSE(pb.wait().ack.ok());
  EXPECT_EQ(b.forgotten, 1);
}

TEST(PendingAck, AnAnswerBeforeTheDeadlineIsReturnedWithWhenItCame) {
  Sent a;
  PendingAck pa = a.pending(MonoClock::now() + 10s);
  MonoTime at = MonoClock::now();
  std::thread answer([&] {
    pb::FaultAck ack;
    ack.set_ok(true);
    ack.mutable_state()->set_summary("paused 1 process");
    a.answer.set_value({ack, at});
  });
  auto got = pa.wait();
  answer.join();
  ASSERT_TRUE(got.ack.ok());
  EXPECT_EQ(got.ack->state().summary(), "paused 1 process");
  EXPECT_EQ(got.at, at);
  EXPECT_EQ(a.forgotten, 0);
}

TEST(PendingAck, AReplyMapsTheAnswerOnce) {
  pb::FaultAck ack;
  ack.set_ok(true);
  ack.mutable_state()->set_summary("done");
  int finished = 0;
  Reply<std::string> reply(PendingAck::answered(ack), [&](TimedAck t) -> Result<std::string> {
    ++finished;
    return t.ack->state().summary();
  });
  EXPECT_TRUE(reply.ready());
  auto r = reply.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "done");
  EXPECT_EQ(finished, 1);
}

}  // namespace
}  // namespace faultline::controller
