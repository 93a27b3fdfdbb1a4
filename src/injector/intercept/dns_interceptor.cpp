#include "injector/intercept/dns_interceptor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/dns/dns_message.h"
#include "common/socket_wait.h"
#include "injector/intercept/socket_io.h"

namespace faultline::injector::intercept {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kUpstreamTimeout = std::chrono::seconds(5);
constexpr size_t kMaxPending = 4096;  // queries forwarded and not yet answered, per server

dns::Rcode rcode_of(const std::string& answer) {
  if (answer == "nxdomain") return dns::Rcode::kNxDomain;
  if (answer == "servfail") return dns::Rcode::kServFail;
  if (answer == "refused") return dns::Rcode::kRefused;
  return dns::Rcode::kNoError;
}

bool forged(const std::string& answer) {
  return answer == "nxdomain" || answer == "servfail" || answer == "refused" || answer == "address";
}

std::string forge(const dns::Query& q, const std::string& wire, const pb::DnsRule& r) {
  return dns::forged_answer(q, wire, rcode_of(r.answer()),
                            {r.addresses().begin(), r.addresses().end()}, r.ttl_s());
}

bool read_exact(int fd, char* out, size_t n, Clock::time_point deadline) {
  while (n > 0) {
    if (!wait_ready(fd, POLLIN, deadline)) return false;
    ssize_t got = ::recv(fd, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

// One DNS-over-TCP message (2-byte length, then the message).
bool read_message(int fd, std::string& out, Clock::time_point deadline) {
  unsigned char len[2];
  if (!read_exact(fd, reinterpret_cast<char*>(len), 2, deadline)) return false;
  out.resize(static_cast<size_t>(len[0]) << 8 | len[1]);
  return read_exact(fd, out.data(), out.size(), deadline);
}

std::string framed(const std::string& msg) {
  std::string out;
  out.push_back(static_cast<char>(msg.size() >> 8));
  out.push_back(static_cast<char>(msg.size() & 0xFF));
  return out + msg;
}

}  // namespace

// ---- Rules ----

Result<DnsRules> DnsRules::compile(const pb::DnsFault& fault) {
  DnsRules out;
  out.draw_->rng.seed(fault.seed());
  for (const auto& r : fault.rules()) {
    auto names = dns::NameMatcher::make({r.names().begin(), r.names().end()});
    if (!names) return names.error();
    out.rules_.push_back({std::move(*names), r});
  }
  return out;
}

const pb::DnsRule* DnsRules::decide(std::string_view name) const {
  for (const auto& c : rules_) {
    if (!c.names.matches(name)) continue;
    if (c.rule.percent() >= 1) return &c.rule;
    std::lock_guard lock(draw_->mu);
    return std::uniform_real_distribution<double>(0, 1)(draw_->rng) < c.rule.percent() ? &c.rule
                                                                                       : nullptr;
  }
  return nullptr;
}

// ---- DueQueue ----

DueQueue::DueQueue() : thread_([this] { run(); }) {}

DueQueue::~DueQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DueQueue::at(Clock::time_point due, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    due_.emplace(due, std::move(fn));
  }
  cv_.notify_all();
}

void DueQueue::flush() {
  {
    std::lock_guard lock(mu_);
    flush_ = true;
  }
  cv_.notify_all();
}

void DueQueue::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!due_.empty() && (flush_ || due_.begin()->first <= Clock::now())) {
      auto fn = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (stop_) return;
    if (due_.empty())
      cv_.wait(lock);
    else
      cv_.wait_until(lock, due_.begin()->first);
  }
}

// ---- Interceptor ----

struct DnsInterceptor::Server {
  std::string address;
  int family = AF_INET;
  sockaddr_storage upstream{};
  socklen_t upstream_len = 0;
  UniqueFd udp, tcp, upstream_udp;
  uint16_t udp_port = 0, tcp_port = 0;
  std::thread udp_thread, upstream_thread, tcp_thread;
  // Forwarded UDP queries by the id they carry upstream.
  struct Pending {
    sockaddr_storage client{};
    socklen_t client_len = 0;
    in6_pktinfo local6{};
    in_pktinfo local4{};
    uint16_t id = 0;
    Clock::time_point sent;
  };
  std::mutex mu;
  std::map<uint16_t, Pending> pending;
  std::mt19937 ids{std::random_device{}()};

  // An answer to `to`, sent from the local address its query came to (the REDIRECT's), so
  // that conntrack turns it back into the server's and the client takes it.
  void answer(const Pending& to, std::string_view data) const {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    alignas(cmsghdr) char control[64] = {};
    msghdr out{};
    out.msg_name = const_cast<sockaddr_storage*>(&to.client);
    out.msg_namelen = to.client_len;
    out.msg_iov = &iov;
    out.msg_iovlen = 1;
    out.msg_control = control;
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
    if (family == AF_INET) {
      out.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst = to.local4.ipi_addr;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
      out.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      info.ipi6_addr = to.local6.ipi6_addr;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    ::sendmsg(udp.get(), &out, MSG_NOSIGNAL);
  }
};

DnsInterceptor::DnsInterceptor(DnsRules rules, uint32_t own_mark, std::vector<std::string> servers)
    : rules_(std::move(rules)), mark_(own_mark), stop_(::eventfd(0, EFD_CLOEXEC)) {
  for (auto& a : servers) {
    auto s = std::make_unique<Server>();
    s->address = a;
    servers_.push_back(std::move(s));
  }
}

DnsInterceptor::~DnsInterceptor() {
  drain(0);
}

Status DnsInterceptor::listen() {
  for (auto& sp : servers_) {
    Server& s = *sp;
    s.family = s.address.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (s.family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&s.upstream);
      a->sin_family = AF_INET;
      a->sin_port = htons(53);
      if (inet_pton(AF_INET, s.address.c_str(), &a->sin_addr) != 1)
        return make_error(ErrorCode::kInvalidArgument, "not an address: " + s.address);
      s.upstream_len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&s.upstream);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(53);
      if (inet_pton(AF_INET6, s.address.c_str(), &a->sin6_addr) != 1)
        return make_error(ErrorCode::kInvalidArgument, "not an address: " + s.address);
      s.upstream_len = sizeof(sockaddr_in6);
    }
    auto bound = [&](int type, uint16_t& port) -> UniqueFd {
      UniqueFd fd(::socket(s.family, type | SOCK_CLOEXEC, 0));
      int one = 1;
      if (s.family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      sockaddr_storage any{};
      any.ss_family = static_cast<sa_family_t>(s.family);
      socklen_t len = s.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
      if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), len) != 0) return UniqueFd();
      if (type == SOCK_STREAM && ::listen(fd.get(), 256) != 0) return UniqueFd();
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&any), &len);
      port = ntohs(s.family == AF_INET ? reinterpret_cast<sockaddr_in&>(any).sin_port
                                       : reinterpret_cast<sockaddr_in6&>(any).sin6_port);
      return fd;
    };
    s.udp = bound(SOCK_DGRAM, s.udp_port);
    s.tcp = bound(SOCK_STREAM, s.tcp_port);
    if (!s.udp || !s.tcp)
      return make_error(ErrorCode::kInternal, std::string("bind: ") + strerror(errno));
    // Which local address each query was sent to (the REDIRECT's), so the answer leaves from
    // it and conntrack turns it back into the server's.
    int one = 1;
    if (s.family == AF_INET)
      ::setsockopt(s.udp.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    else
      ::setsockopt(s.udp.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    s.upstream_udp = UniqueFd(::socket(s.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ::setsockopt(s.upstream_udp.get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
    if (::connect(s.upstream_udp.get(), reinterpret_cast<sockaddr*>(&s.upstream), s.upstream_len) !=
        0)
      return make_error(ErrorCode::kInternal, "cannot reach " + s.address + ": " + strerror(errno));
  }
  return Ok{};
}

void DnsInterceptor::run() {
  for (auto& sp : servers_) {
    Server& s = *sp;
    s.udp_thread = std::thread([this, &s] { serve_udp(s); });
    s.upstream_thread = std::thread([this, &s] { serve_upstream_udp(s); });
    s.tcp_thread = std::thread([this, &s] { serve_tcp(s); });
  }
}

std::vector<uint16_t> DnsInterceptor::udp_ports() const {
  std::vector<uint16_t> out;
  for (const auto& s : servers_) out.push_back(s->udp_port);
  return out;
}

std::vector<uint16_t> DnsInterceptor::tcp_ports() const {
  std::vector<uint16_t> out;
  for (const auto& s : servers_) out.push_back(s->tcp_port);
  return out;
}

void DnsInterceptor::serve_udp(Server& s) {
  for (;;) {
    pollfd fds[2] = {{s.udp.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    if (!(fds[0].revents & POLLIN)) continue;
    char buf[4096];
    alignas(cmsghdr) char control[256];
    Server::Pending from;
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from.client;
    msg.msg_namelen = sizeof from.client;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(s.udp.get(), &msg, 0);
    if (n <= 0) continue;
    from.client_len = msg.msg_namelen;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
        std::memcpy(&from.local4, CMSG_DATA(c), sizeof from.local4);
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
        std::memcpy(&from.local6, CMSG_DATA(c), sizeof from.local6);
    }
    auto reply = [&s, from](std::string answer) { s.answer(from, answer); };
    std::string query(buf, static_cast<size_t>(n));
    // Forwarding: the query leaves with an id of ours; the upstream thread maps it back.
    auto forward = [this, &s, from, reply](std::string q) {
      auto id = dns::response_id(q);
      if (!id) return;
      uint16_t ours;
      {
        std::lock_guard lock(s.mu);
        auto now = Clock::now();
        std::erase_if(s.pending,
                      [&](const auto& p) { return now - p.second.sent > kUpstreamTimeout; });
        if (s.pending.size() >= kMaxPending) return;  // the server is not answering: drop
        do ours = static_cast<uint16_t>(s.ids());
        while (s.pending.count(ours));
        Server::Pending p = from;
        p.id = *id;
        p.sent = now;
        s.pending[ours] = p;
      }
      dns::set_id(q, ours);
      stats_.forwarded++;
      if (::send(s.upstream_udp.get(), q.data(), q.size(), MSG_NOSIGNAL) < 0)
        stats_.upstream_errors++;
    };
    stats_.queries++;
    auto parsed = dns::parse_query(query);
    if (!parsed) {
      stats_.malformed++;
      forward(std::move(query));
      continue;
    }
    const pb::DnsRule* rule = draining_ ? nullptr : rules_.decide(parsed->question.name);
    if (!rule) {
      forward(std::move(query));
    } else if (forged(rule->answer())) {
      stats_.forged++;
      reply(forge(*parsed, query, *rule));
    } else if (rule->answer() == "timeout") {
      stats_.dropped++;
    } else {  // delay
      stats_.delayed++;
      auto due = Clock::now() +
                 std::chrono::microseconds(jittered_us(rule->delay_us(), rule->jitter_us()));
      due_.at(due, [forward, query] { forward(query); });
    }
  }
}

void DnsInterceptor::serve_upstream_udp(Server& s) {
  for (;;) {
    pollfd fds[2] = {{s.upstream_udp.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, draining_ ? 10 : -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) {
      std::lock_guard lock(s.mu);
      if (s.pending.empty()) return;  // the drain waits for nothing more
    }
    if (!(fds[0].revents & POLLIN)) continue;
    char buf[65536];
    ssize_t n = ::recv(s.upstream_udp.get(), buf, sizeof buf, 0);
    if (n <= 0) continue;
    std::string answer(buf, static_cast<size_t>(n));
    auto id = dns::response_id(answer);
    if (!id) continue;
    Server::Pending p;
    {
      std::lock_guard lock(s.mu);
      auto it = s.pending.find(*id);
      if (it == s.pending.end()) continue;
      p = it->second;
      s.pending.erase(it);
    }
    dns::set_id(answer, p.id);
    s.answer(p, answer);
  }
}

void DnsInterceptor::serve_tcp(Server& s) {
  for (;;) {
    pollfd fds[2] = {{s.tcp.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(s.tcp.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(tcp_mu_);
    tcp_open_++;
    tcp_threads_.emplace_back([this, &s, fd] {
      serve_tcp_client(s, UniqueFd(fd));
      tcp_open_--;
    });
  }
}

// DNS over TCP: one message after another on the client's connection, each answered in order
// (forwarded ones over a connection of ours to the server, made when first needed).
void DnsInterceptor::serve_tcp_client(Server& s, UniqueFd client) {
  UniqueFd upstream;
  for (;;) {
    std::string query;
    // Waits for the next query in short steps, so that the end of the drain (or 10 s idle,
    // or the drain itself once nothing is in flight) ends the connection promptly.
    auto idle_until = Clock::now() + std::chrono::seconds(10);
    bool ready = false;
    while (!ready && !stopped_ && !draining_ && Clock::now() < idle_until)
      ready = wait_ready(client.get(), POLLIN, Clock::now() + std::chrono::milliseconds(50));
    if (!ready || !read_message(client.get(), query, Clock::now() + kUpstreamTimeout)) return;
    stats_.queries++;
    stats_.tcp++;
    auto parsed = dns::parse_query(query);
    const pb::DnsRule* rule = nullptr;
    if (!parsed)
      stats_.malformed++;
    else if (!draining_)
      rule = rules_.decide(parsed->question.name);
    if (rule && forged(rule->answer())) {
      stats_.forged++;
      if (!write_all(client.get(), framed(forge(*parsed, query, *rule)))) return;
      continue;
    }
    if (rule && rule->answer() == "timeout") {
      stats_.dropped++;  // silence: the client's own timeout ends it
      continue;
    }
    if (rule) {  // delay
      stats_.delayed++;
      auto until = Clock::now() +
                   std::chrono::microseconds(jittered_us(rule->delay_us(), rule->jitter_us()));
      while (Clock::now() < until && !draining_)
        std::this_thread::sleep_for(
            std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(5)));
    }
    stats_.forwarded++;
    auto by = Clock::now() + kUpstreamTimeout;
    // Servers close idle or well-used connections (dnsmasq after 100 queries): a query that
    // finds ours closed is sent again on a new one, once, rather than lost.
    std::string answer;
    bool answered = false;
    for (int attempt = 0; attempt < 2 && !answered; ++attempt) {
      if (!upstream) {
        upstream = UniqueFd(::socket(s.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        ::setsockopt(upstream.get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
        if (connect_by(upstream.get(), reinterpret_cast<sockaddr*>(&s.upstream), s.upstream_len,
                       by) != 0)
          break;
      }
      answered =
          write_all(upstream.get(), framed(query)) && read_message(upstream.get(), answer, by);
      if (!answered) upstream.reset();
    }
    if (!answered) {
      stats_.upstream_errors++;
      return;
    }
    if (!write_all(client.get(), framed(answer))) return;
  }
}

void DnsInterceptor::drain(uint64_t deadline_ms) {
  if (draining_.exchange(true)) return;
  due_.flush();  // held queries go on now
  auto until = Clock::now() + std::chrono::milliseconds(deadline_ms);
  // Answers to forwarded queries keep coming back until none is pending (or the deadline).
  for (auto& s : servers_) {
    for (;;) {
      {
        std::lock_guard lock(s->mu);
        if (s->pending.empty()) break;
      }
      if (Clock::now() >= until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  while (tcp_open_ > 0 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  stopped_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
  for (auto& s : servers_) {
    for (auto* t : {&s->udp_thread, &s->tcp_thread})
      if (t->joinable()) t->join();
    {
      std::lock_guard lock(s->mu);
      s->pending.clear();
    }
    if (s->upstream_thread.joinable()) s->upstream_thread.join();
  }
  std::list<std::thread> threads;
  {
    std::lock_guard lock(tcp_mu_);
    threads.swap(tcp_threads_);
  }
  for (auto& t : threads)
    if (t.joinable()) t.join();  // each ends within 50 ms of `stopped_`, or its upstream timeout
}

}  // namespace faultline::injector::intercept
