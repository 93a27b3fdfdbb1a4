#include "proxy/link_pump.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <thread>

namespace faultline::proxy {

namespace {

constexpr size_t kChunk = 64 << 10;
constexpr int64_t kRecheckNs = 50'000'000;  // toxics are looked at again at least this often

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

const Toxic* find_type(const std::vector<Toxic>& toxics, const char* type) {
  for (const auto& t : toxics)
    if (t.type == type) return &t;
  return nullptr;
}

}  // namespace

LinkPump::LinkPump(int from, int to, Stream stream, const ToxicSet& toxics, AbortHandOff& abort,
                   const std::atomic<bool>& stop, uint64_t seed)
    : from_(from),
      to_(to),
      stream_(stream),
      toxics_(toxics),
      abort_(abort),
      stop_(stop),
      rng_(seed) {
  // http_abort reads requests whatever its stream says, so only this side watches them.
  if (stream_ == Stream::kUpstream) watcher_.emplace(seed ^ 0x5DEECE66Dull);
}

std::vector<Toxic> LinkPump::active(const ToxicSet::Snapshot& all) {
  std::vector<Toxic> out;
  int64_t now = now_ns();
  for (const auto& e : *all) {
    const Toxic& t = e.toxic;
    if (t.stream != stream_ || e.http_abort) continue;  // http_abort is the watcher's
    auto [it, fresh] = drawn_.try_emplace(t.name, true);
    if (fresh && t.toxicity < 1.0)
      it->second = std::uniform_real_distribution<double>(0, 1)(rng_) < t.toxicity;
    if (!it->second) continue;
    if (seen_ns_.try_emplace(t.name, now).second)
      e.counts->connections.fetch_add(1, std::memory_order_relaxed);
    out.push_back(t);
  }
  // A toxic removed and added again is drawn and timed afresh.
  for (auto it = seen_ns_.begin(); it != seen_ns_.end();) {
    bool present = std::any_of(all->begin(), all->end(),
                               [&](const ToxicEntry& e) { return e.toxic.name == it->first; });
    if (!present) {
      drawn_.erase(it->first);
      it = seen_ns_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void LinkPump::sleep_until(int64_t ns) const {
  while (!stop_) {
    int64_t left = ns - now_ns();
    if (left <= 0) return;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(left, kRecheckNs)));
  }
}

bool LinkPump::write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(to_, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    bytes_ += static_cast<uint64_t>(w);
  }
  return true;
}

bool LinkPump::deliver(const Chunk& c, const std::vector<Toxic>& toxics) {
  const Toxic* slicer = find_type(toxics, "slicer");
  const Toxic* bandwidth = find_type(toxics, "bandwidth");
  size_t at = 0;
  while (at < c.data.size()) {
    size_t piece = c.data.size() - at;
    if (slicer && slicer->attr("average_size") > 0) {
      int64_t avg = slicer->attr("average_size"), var = slicer->attr("size_variation");
      int64_t size = avg;
      if (var > 0) size += std::uniform_int_distribution<int64_t>(-var, var)(rng_);
      piece = std::min<size_t>(piece, static_cast<size_t>(std::max<int64_t>(1, size)));
    }
    if (bandwidth && bandwidth->attr("rate") > 0) {
      // rate is in KB/s (1000 bytes): each piece waits for the time its bytes take.
      int64_t rate = bandwidth->attr("rate") * 1000;
      piece = std::min<size_t>(piece, static_cast<size_t>(std::max<int64_t>(1, rate / 100)));
      int64_t now = now_ns();
      bandwidth_free_ns_ = std::max(bandwidth_free_ns_, now);
      sleep_until(bandwidth_free_ns_);
      bandwidth_free_ns_ += static_cast<int64_t>(piece) * 1'000'000'000LL / rate;
    }
    if (!write_all(c.data.data() + at, piece)) return false;
    at += piece;
    if (slicer && slicer->attr("delay") > 0 && at < c.data.size())
      sleep_until(now_ns() + slicer->attr("delay") * 1000);
    if (stop_) return false;
  }
  return true;
}

void LinkPump::take(std::string data, const std::vector<Toxic>& toxics) {
  if (find_type(toxics, "timeout")) return;  // a timeout toxic lets nothing through
  if (const Toxic* reset = find_type(toxics, "reset_peer")) {
    // reset_peer: the first data starts its clock; nothing more is passed on.
    if (reset_at_ns_ < 0) reset_at_ns_ = now_ns() + reset->attr("timeout") * 1'000'000;
    return;
  }
  Chunk c;
  c.data = std::move(data);
  c.due_ns = now_ns();
  if (const Toxic* lat = find_type(toxics, "latency")) {
    int64_t delay_ms = lat->attr("latency");
    int64_t jitter = lat->attr("jitter");
    if (jitter > 0) delay_ms += std::uniform_int_distribution<int64_t>(-jitter, jitter)(rng_);
    c.due_ns += std::max<int64_t>(0, delay_ms) * 1'000'000;
  }
  c.due_ns = std::max(c.due_ns, last_due_ns_);  // never reorder
  last_due_ns_ = c.due_ns;
  held_.push_back(std::move(c));
}

PumpEnd LinkPump::after_abort() {
  // The server answers the requests it has, sees the end of them, and closes.
  ::shutdown(to_, SHUT_WR);
  abort_.server_half_closed(now_ns());
  // What the client still sends is read and dropped: bytes left unread at the close would make
  // the kernel answer with a reset, which can overtake the answer on its way to the client.
  std::string buf(kChunk, '\0');
  for (;;) {
    if (stop_) return PumpEnd::kStopped;
    pollfd p{from_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(kRecheckNs / 1'000'000));
    if (ready < 0 && errno != EINTR) return PumpEnd::kError;
    if (ready <= 0) continue;
    ssize_t n = ::recv(from_, buf.data(), buf.size(), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) abort_.client_closed_now();
    if (n == 0) return stop_ ? PumpEnd::kStopped : PumpEnd::kEof;
    if (n < 0 && errno != EINTR && errno != EAGAIN)
      return stop_ ? PumpEnd::kStopped : PumpEnd::kError;
  }
}

PumpEnd LinkPump::answer_abort() {
  const std::string& response = abort_.response();
  if (!write_all(response.data(), response.size())) return PumpEnd::kError;
  ::shutdown(to_, SHUT_WR);  // the FIN right behind the answer, before anything can reset
  // A lingering close: the other pump goes on reading and dropping what the client still sends
  // (the rest of an upload, pipelined requests) until the client closes, for up to 2 s. Closing
  // with unread bytes would make the kernel send a reset that can destroy the answer.
  const int64_t until = now_ns() + kAbortLingerNs;
  while (!stop_ && !abort_.client_closed() && now_ns() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return PumpEnd::kClose;
}

PumpEnd LinkPump::run() {
  std::string buf(kChunk, '\0');
  bool eof = false;
  bool aborting = false;  // client->server: a request was answered; what came before drains
  for (;;) {
    if (stop_) return PumpEnd::kStopped;
    auto snapshot = toxics_.current();
    std::vector<Toxic> toxics = active(snapshot);
    int64_t now = now_ns();

    const Toxic* reset = find_type(toxics, "reset_peer");
    if (!reset) reset_at_ns_ = -1;
    if (reset && reset_at_ns_ >= 0 && now >= reset_at_ns_) return PumpEnd::kReset;
    const Toxic* timeout = find_type(toxics, "timeout");
    // A timeout toxic taken away closes what it held, as Toxiproxy's does.
    if (timeout) held_by_timeout_ = true;
    if (!timeout && held_by_timeout_) return PumpEnd::kClose;
    if (timeout && timeout->attr("timeout") > 0 &&
        now - seen_ns_[timeout->name] >= timeout->attr("timeout") * 1'000'000)
      return PumpEnd::kClose;
    if (const Toxic* limit = find_type(toxics, "limit_data");
        limit && bytes_ >= static_cast<uint64_t>(limit->attr("bytes")))
      return PumpEnd::kClose;
    // Part of a request head held for an http_abort toxic that has gone since goes on now.
    if (watcher_ && watcher_->holding() && !eof) {
      RequestWatcher::Step step = watcher_->feed({}, snapshot);
      if (!step.forward.empty()) take(std::move(step.forward), toxics);
    }

    // Everything due goes out, in order.
    while (!held_.empty() && held_.front().due_ns <= now) {
      Chunk c = std::move(held_.front());
      held_.pop_front();
      if (const Toxic* limit = find_type(toxics, "limit_data")) {
        uint64_t room = static_cast<uint64_t>(limit->attr("bytes")) -
                        std::min<uint64_t>(bytes_, limit->attr("bytes"));
        if (c.data.size() > room) {
          c.data.resize(room);
          if (!deliver(c, toxics)) return PumpEnd::kError;
          return PumpEnd::kClose;
        }
      }
      if (!deliver(c, toxics)) return stop_ ? PumpEnd::kStopped : PumpEnd::kError;
      now = now_ns();
    }
    if (eof && held_.empty()) {
      if (aborting) return after_abort();
      // The server closed after its last answer: the answer to the aborted request follows it.
      if (stream_ == Stream::kDownstream && abort_.armed()) return answer_abort();
      if (const Toxic* slow = find_type(toxics, "slow_close"))
        sleep_until(now_ns() + slow->attr("delay") * 1'000'000);
      return stop_ ? PumpEnd::kStopped : PumpEnd::kEof;
    }
    // A server that keeps the connection open after the half-close is not waited for long:
    // once it has been quiet for a while, its earlier answers are taken to be complete. One
    // that is still sending (a long download) is never interrupted by the answer, which would
    // land inside its body: past the hard limit the connection closes without it.
    if (stream_ == Stream::kDownstream && held_.empty() && abort_.overdue(now)) {
      if (now - last_read_ns_ >= kAbortQuietNs) return answer_abort();
      if (abort_.overdue_by(now, kAbortGiveUpNs)) return PumpEnd::kClose;
    }

    int64_t wait_ns = kRecheckNs;
    if (!held_.empty()) wait_ns = std::min(wait_ns, held_.front().due_ns - now);
    if (reset_at_ns_ >= 0) wait_ns = std::min(wait_ns, reset_at_ns_ - now);
    if (eof) {  // nothing more to read; wait for what is held
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<int64_t>(wait_ns, 0)));
      continue;
    }
    pollfd p{from_, POLLIN, 0};
    int ready = ::poll(&p, 1,
                       static_cast<int>(std::max<int64_t>(wait_ns, 0) / 1'000'000) +
                           (wait_ns > 0 && wait_ns < 1'000'000 ? 1 : 0));
    if (ready < 0 && errno != EINTR) return PumpEnd::kError;
    if (ready <= 0) continue;
    ssize_t n = ::recv(from_, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return stop_ ? PumpEnd::kStopped : PumpEnd::kError;
    }
    // The chunk meets the toxics as they are now, not as they were before the wait.
    snapshot = toxics_.current();
    toxics = active(snapshot);
    if (n == 0) {
      eof = true;
      if (watcher_) {  // a head the client never finished goes on as it is
        std::string rest = watcher_->finish();
        if (!rest.empty()) take(std::move(rest), toxics);
      }
      continue;
    }
    last_read_ns_ = now_ns();
    std::string_view data(buf.data(), static_cast<size_t>(n));
    if (!watcher_) {
      take(std::string(data), toxics);
      continue;
    }
    RequestWatcher::Step step = watcher_->feed(data, snapshot);
    if (!step.forward.empty()) take(std::move(step.forward), toxics);
    if (step.abort) {
      abort_.arm(std::move(step.response));
      aborting = eof = true;  // read no more; send what came before, then half-close
    }
  }
}

}  // namespace faultline::proxy
