#include "injector/network/nfqueue_engine.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "common/log.h"
#include "common/unique_fd.h"
#include "injector/network/netns.h"
#include "injector/network/nfqueue_socket.h"

namespace faultline::injector {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kNoSlot = UINT32_MAX;

struct HeldPacket {
  Clock::time_point due;
  uint64_t seq;  // equal due times leave in arrival order
  uint32_t id;
  uint32_t slot;  // the packet's bytes (corrupted, or to duplicate) in the pool; else kNoSlot
  bool duplicate;
  bool modified;
  // For a min-heap on (due, seq) with std::push_heap.
  bool operator>(const HeldPacket& o) const { return due != o.due ? due > o.due : seq > o.seq; }
};

}  // namespace

bool needs_payload(const ImpairmentSpec& spec) {
  return spec.corrupt > 0 || spec.duplicate > 0;
}

// How long a queue's thread keeps looking for packets after the last one before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

// A held packet is due at a fixed time; behind a busy workload (exactly what chaos runs
// create) a normal-priority thread would release it late, so a queue that holds packets runs
// at real-time priority (best effort: without the privilege it stays normal). One that holds
// nothing stays normal: the scheduler then runs the woken receiver on the engine's CPU right
// after a verdict, where a real-time spinner would push it to another, idle CPU whose wake-up
// costs tens of microseconds per packet (measured: +34 µs round trip against +5).
void set_priority(bool holds, uint16_t queue) {
  sched_param prio{};
  prio.sched_priority = holds ? 10 : 0;
  if (pthread_setschedparam(pthread_self(), holds ? SCHED_FIFO : SCHED_OTHER, &prio) != 0 && holds)
    spdlog::debug("nfqueue thread runs without real-time priority queue={}", queue);
}

bool holds_packets(const ImpairmentSpec& spec) {
  return spec.delay.count() > 0 || spec.jitter.count() > 0;
}

unsigned default_queue_count() {
  unsigned cpus = std::thread::hardware_concurrency();
  return std::clamp(cpus, 1u, 4u);
}

struct NfqueueEngine::Worker {
  NfqueueSocket sock;
  uint32_t limit = 0;
  UniqueFd wake, raw4, raw6;
  std::thread thread;
  std::mutex mu;
  std::optional<ImpairmentSpec> pending;
  std::atomic<bool> has_pending{false};
  ImpairmentSpec initial;
  std::atomic<uint64_t> received{0}, dropped{0}, duplicated{0}, corrupted{0}, released{0},
      overflow{0}, bypassed{0};

  // Held packets as a min-heap, and the bytes of those that carry any: both sized once, so
  // a packet costs no allocation.
  std::vector<HeldPacket> held;
  std::vector<std::string> pool;
  std::vector<uint32_t> free_slots;
  uint64_t seq = 0;

  uint32_t take_slot(const unsigned char* data, uint32_t len) {
    uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<uint32_t>(pool.size());
      pool.emplace_back();
      pool.back().reserve(2048);
    }
    pool[slot].assign(reinterpret_cast<const char*>(data), len);
    return slot;
  }

  // A copy of the packet, sent from a raw socket in the namespace; marked so our own rule
  // lets it pass instead of queueing it again.
  void send_copy(const std::string& pkt) {
    if (pkt.empty()) return;
    int version = static_cast<unsigned char>(pkt[0]) >> 4;
    if (version == 4 && pkt.size() >= 20 && raw4) {
      sockaddr_in to{};
      to.sin_family = AF_INET;
      std::memcpy(&to.sin_addr, pkt.data() + 16, 4);
      (void)::sendto(raw4.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof to);
    } else if (version == 6 && pkt.size() >= 40 && raw6) {
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      std::memcpy(&to.sin6_addr, pkt.data() + 24, 16);
      (void)::sendto(raw6.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof to);
    }
  }

  void release(const HeldPacket& p) {
    const std::string* bytes = p.slot == kNoSlot ? nullptr : &pool[p.slot];
    if (p.modified && bytes)
      sock.verdict(p.id, true, reinterpret_cast<const unsigned char*>(bytes->data()),
                   static_cast<uint32_t>(bytes->size()));
    else
      sock.verdict(p.id, true);
    if (p.duplicate && bytes) {
      // The original goes first: the copy follows it on the wire, as with netem.
      sock.flush();
      send_copy(*bytes);
    }
    if (p.slot != kNoSlot) free_slots.push_back(p.slot);
    ++released;
  }

  void release_due(Clock::time_point now) {
    while (!held.empty() && held.front().due <= now) {
      std::pop_heap(held.begin(), held.end(), std::greater<>{});
      release(held.back());
      held.pop_back();
    }
  }

  void decide(Impairment& model, const QueuedPacket& q) {
    ++received;
    PacketFate fate = model.next();
    if (fate.drop || held.size() >= limit) {
      sock.verdict(q.id, false);
      ++(fate.drop ? dropped : overflow);
      return;
    }
    HeldPacket p{Clock::now() + fate.hold, seq++, q.id, kNoSlot, fate.duplicate, false};
    if ((fate.corrupt || fate.duplicate) && q.payload && q.payload_len > 0)
      p.slot = take_slot(q.payload, q.payload_len);
    if (fate.corrupt && p.slot != kNoSlot) {
      // One flipped bit past the IP header: the packet still routes, its checksum fails.
      std::string& b = pool[p.slot];
      size_t hdr_len = (static_cast<unsigned char>(b[0]) >> 4) == 6
                           ? 40
                           : (static_cast<unsigned char>(b[0]) & 0x0F) * 4u;
      size_t at =
          b.size() > hdr_len ? hdr_len + (seq * 2654435761u) % (b.size() - hdr_len) : b.size() - 1;
      b[at] = static_cast<char>(b[at] ^ (1u << (seq % 8)));
      p.modified = true;
      ++corrupted;
    }
    if (fate.duplicate) ++duplicated;
    if (fate.hold.count() == 0) {
      release(p);
    } else {
      held.push_back(p);
      std::push_heap(held.begin(), held.end(), std::greater<>{});
    }
  }

  void run();
};

Result<std::unique_ptr<NfqueueEngine>> NfqueueEngine::start(const std::string& netns,
                                                            uint16_t first_queue,
                                                            ImpairmentSpec spec, uint32_t limit,
                                                            unsigned queue_count) {
  queue_count = std::max(1u, queue_count);
  std::unique_ptr<NfqueueEngine> e(new NfqueueEngine(first_queue));
  const NfqueueCopy copy = needs_payload(spec) ? NfqueueCopy::kPacket : NfqueueCopy::kMetadata;
  // The limit is the engine's: each queue holds its share (flows spread evenly by hash).
  const uint32_t share = std::max<uint32_t>(1, (limit + queue_count - 1) / queue_count);
  for (unsigned i = 0; i < queue_count; ++i) {
    auto w = std::make_unique<Worker>();
    auto sock = NfqueueSocket::open(netns, static_cast<uint16_t>(first_queue + i), share + 1024);
    if (!sock) return sock.error();
    w->sock = std::move(*sock);
    if (Status s = w->sock.configure(copy, /*wait_ack=*/true); !s)
      return make_error(
          ErrorCode::kFailedPrecondition,
          "cannot configure nfqueue " + std::to_string(first_queue + i) + ": " + s.error().message);
    {
      // Raw sockets belong to the namespace they are created in; the thread may live anywhere.
      ScopedNetns in(netns);
      if (!in.ok()) return make_error(ErrorCode::kNotFound, in.error());
      w->raw4 = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
      w->raw6 = UniqueFd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    }
    for (const UniqueFd* fd : {&w->raw4, &w->raw6}) {
      uint32_t mark = kOwnPacketMark;
      if (*fd) (void)::setsockopt(fd->get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    }
    w->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!w->wake)
      return make_error(ErrorCode::kInternal, std::string("eventfd: ") + strerror(errno));
    w->limit = share;
    w->initial = spec;
    w->held.reserve(share);
    e->workers_.push_back(std::move(w));
  }
  for (auto& w : e->workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([raw] { raw->run(); });
  }
  return e;
}

NfqueueEngine::NfqueueEngine(uint16_t first_queue) : first_queue_(first_queue) {}

NfqueueEngine::~NfqueueEngine() {
  stop();
}

unsigned NfqueueEngine::queue_count() const {
  return static_cast<unsigned>(workers_.size());
}

void NfqueueEngine::set_spec(ImpairmentSpec spec) {
  for (auto& w : workers_) {
    std::lock_guard lock(w->mu);
    w->pending = spec;
    w->has_pending = true;
  }
}

NfqueueStats NfqueueEngine::stats() const {
  NfqueueStats s;
  for (const auto& w : workers_) {
    s.received += w->received;
    s.dropped += w->dropped;
    s.duplicated += w->duplicated;
    s.corrupted += w->corrupted;
    s.released += w->released;
    s.overflow += w->overflow;
    s.bypassed += w->bypassed;
  }
  return s;
}

void NfqueueEngine::stop() {
  if (stopped_.exchange(true)) return;
  for (auto& w : workers_) {
    uint64_t one = 1;
    if (w->thread.joinable()) (void)!::write(w->wake.get(), &one, sizeof one);
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void NfqueueEngine::Worker::run() {
  // Release times are honoured to the microsecond, not to the default 50 µs timer slack.
  prctl(PR_SET_TIMERSLACK, 1UL);
  Impairment model(initial);
  bool holding = holds_packets(initial);
  set_priority(holding, sock.queue_num());
  bool copying = needs_payload(initial);
  std::vector<QueuedPacket> batch;
  batch.reserve(NfqueueSocket::kBatch);

  auto take_pending = [&] {
    if (!has_pending.load(std::memory_order_acquire)) return;
    std::lock_guard lock(mu);
    if (!pending) return;
    model = Impairment(std::move(*pending));
    pending.reset();
    has_pending = false;
    if (bool h = holds_packets(model.spec()); h != holding)
      set_priority(holding = h, sock.queue_num());
    // A fault that now reads bytes (or no longer does) changes what the kernel copies.
    if (bool want = needs_payload(model.spec()); want != copying) {
      copying = want;
      if (Status s = sock.configure(want ? NfqueueCopy::kPacket : NfqueueCopy::kMetadata, false);
          !s)
        spdlog::warn("nfqueue reconfigure failed queue={} error=\"{}\"", sock.queue_num(),
                     s.error().message);
    }
  };

  // Traffic comes in bursts and answers come back within microseconds (a request's reply
  // passes the same queue: the balancing hash is symmetric). Sleeping in ppoll between them
  // costs a wake-up per packet, which on a virtual CPU is tens of microseconds; so after
  // packets, keep looking for a short while before sleeping.
  // Only where nothing is held: a delayed packet's release is timed by ppoll anyway, and a
  // real-time spinner would take the CPU the application under test needs (measured: the
  // 10 ms delay's p99 error went from 32 µs to 1.5 ms at 10k packets/s).
  auto spin = [&] { return holding ? Clock::duration::zero() : Clock::duration(kSpin); };
  Clock::time_point spin_until{};
  auto handle = [&]() -> bool {
    bool any = false;
    for (int round = 0; round < 16; ++round) {
      take_pending();
      batch.clear();
      if (!sock.receive(batch)) {
        spdlog::warn("nfqueue receive failed queue={} error=\"{}\"", sock.queue_num(),
                     strerror(errno));
        break;
      }
      if (batch.empty()) break;
      any = true;
      for (const auto& q : batch) decide(model, q);
      release_due(Clock::now());
      sock.flush();
    }
    bypassed = sock.bypassed();
    return any;
  };

  while (true) {
    release_due(Clock::now());
    sock.flush();
    if (Clock::now() < spin_until) {
      if (handle()) spin_until = Clock::now() + spin();
      uint64_t woken = 0;
      if (::read(wake.get(), &woken, sizeof woken) > 0) break;
      continue;
    }
    timespec ts{1, 0};
    if (!held.empty()) {
      auto wait = std::max(Clock::duration::zero(), held.front().due - Clock::now());
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      ts = {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    }
    pollfd fds[2] = {{sock.fd(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    int r = ::ppoll(fds, 2, &ts, nullptr);
    if (r < 0 && errno != EINTR) {
      spdlog::error("nfqueue poll failed queue={} error=\"{}\"", sock.queue_num(), strerror(errno));
      break;
    }
    if (fds[1].revents & POLLIN) break;
    if (!(fds[0].revents & POLLIN)) continue;
    // Drain what is there (bounded, so due releases are never starved), a batch at a time,
    // each batch answered with one send.
    if (handle()) spin_until = Clock::now() + spin();
  }
  // Stopping: the rule is already gone, so only what is held and what is in flight remains.
  while (!held.empty()) {
    std::pop_heap(held.begin(), held.end(), std::greater<>{});
    release(held.back());
    held.pop_back();
  }
  // Bounded: stopping must end even if the socket keeps answering.
  for (int round = 0; round < 256; ++round) {
    batch.clear();
    if (!sock.receive(batch) || batch.empty()) break;
    for (const auto& q : batch) {
      ++received;
      sock.verdict(q.id, true);
      ++released;
    }
  }
  sock.unbind();
  bypassed = sock.bypassed();
  spdlog::debug("nfqueue stopped queue={} received={} released={} dropped={} bypassed={}",
                sock.queue_num(), received.load(), released.load(), dropped.load(),
                bypassed.load());
}

}  // namespace faultline::injector
