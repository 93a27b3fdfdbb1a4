// A closed-loop DNS client for bench/dns_fault_bench.sh: COUNT sequential A queries for NAME,
// each sent as dig 9.18 sends one (bench/dns_query_wire.h: random id, RD and AD, an EDNS OPT
// record with a client cookie) and timed from the send to the answer carrying its id.
//   UDP (default): a new connected socket per query, as glibc's resolver and dig open one per
//     lookup (so every query is a new conntrack entry, and a new NAT decision where there is
//     one); the socket is made before the clock starts.
//   tcp: one DNS-over-TCP connection (TCP_NODELAY) for every query, each message with its
//     2-byte length, one in flight at a time. A connection the server closed (dnsmasq closes
//     one after 100 queries) is found when the next query gets no answer on it: that query is
//     sent again, once, on a new connection, timed from its first send and counted as a retry
//     (a resolver does the same, RFC 7766 6.2.1); after a timeout or a bad answer the next
//     query starts a new connection.
//   from=ADDR: bind the client's sockets to this source address (the bench gives each path
//     its own, so no conntrack entry left by an earlier path, NATed or not, is reused).
// An answer must be a response (QR) with the query's id, NOERROR and at least one answer
// record; anything else, or no answer within 1 s, is an error (answers with another id are
// skipped, as a resolver does). The first 200 queries are warm-up and left out.
// Usage: dns_query_client SERVER_IP PORT NAME COUNT [tcp] [from=ADDR]
// Prints: queries=N errors=E p50_us=.. p99_us=.. p999_us=.. mean_us=.. retries=R
//   (N = COUNT - 200; errors and retries counted over those N)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dns_query_wire.h"

namespace {

constexpr int kWarmup = 200;
constexpr uint16_t kTypeA = 1;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "dns_query_client: %s\n", why.c_str());
  std::exit(2);
}

void set_timeout(int fd) {
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

uint16_t get16(const unsigned char* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

enum class Outcome { kOk, kOtherId, kBad };

Outcome check_answer(const unsigned char* msg, size_t n, uint16_t id) {
  if (n < 12) return Outcome::kBad;
  if (get16(msg) != id) return Outcome::kOtherId;
  const uint16_t flags = get16(msg + 2);
  if (!(flags & 0x8000) || (flags & 0x000F) != 0) return Outcome::kBad;  // QR; rcode NOERROR
  return get16(msg + 6) >= 1 ? Outcome::kOk : Outcome::kBad;             // ANCOUNT
}

class Client {
 public:
  Client(const sockaddr_in& server, const sockaddr_in* from, bool tcp)
      : server_(server), tcp_(tcp) {
    if (from) {
      from_ = *from;
      bind_ = true;
    }
  }
  long retries = 0;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  // One query; its latency in ns, or -1 for an error.
  int64_t query(const std::string& wire, uint16_t id) {
    return tcp_ ? query_tcp(wire, id) : query_udp(wire, id);
  }

 private:
  int64_t query_udp(const std::string& wire, uint16_t id) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    bind_source(fd);
    set_timeout(fd);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0)
      die(std::string("connect: ") + std::strerror(errno));
    int64_t result = -1;
    const int64_t t0 = now_ns();
    if (::send(fd, wire.data(), wire.size(), 0) == static_cast<ssize_t>(wire.size())) {
      for (;;) {
        ssize_t n = ::recv(fd, buf_, sizeof buf_, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;  // the 1 s timeout, or ICMP port unreachable
        Outcome o = check_answer(buf_, static_cast<size_t>(n), id);
        if (o == Outcome::kOtherId) continue;
        if (o == Outcome::kOk) result = now_ns() - t0;
        break;
      }
    }
    ::close(fd);
    return result;
  }

  void bind_source(int fd) {
    if (bind_ && ::bind(fd, reinterpret_cast<const sockaddr*>(&from_), sizeof from_) != 0)
      die(std::string("bind: ") + std::strerror(errno));
  }

  bool connect_tcp() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) die(std::string("socket: ") + std::strerror(errno));
    bind_source(fd_);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeout(fd_);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    return true;
  }

  bool read_exact(unsigned char* out, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(fd_, out, n, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  int64_t query_tcp(const std::string& wire, uint16_t id) {
    std::string framed;
    dnsbench::put16(framed, static_cast<uint16_t>(wire.size()));
    framed += wire;
    const int64_t t0 = now_ns();
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = fd_ >= 0 && answered_ > 0;
      if (fd_ < 0) {
        if (!connect_tcp()) return -1;
        answered_ = 0;
      }
      bool sent = ::send(fd_, framed.data(), framed.size(), MSG_NOSIGNAL) ==
                  static_cast<ssize_t>(framed.size());
      bool closed = !sent;  // EPIPE/ECONNRESET: the server had closed it
      while (sent) {
        unsigned char len[2];
        errno = 0;
        const ssize_t got = ::recv(fd_, len, 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {  // nothing of the answer came: closed (0, ECONNRESET) or timed out
          closed = got == 0 || errno == ECONNRESET;
          break;
        }
        if (!read_exact(len + 1, 1)) break;
        const size_t n = get16(len);
        if (!read_exact(buf_, n)) break;
        Outcome o = check_answer(buf_, n, id);
        if (o == Outcome::kOtherId) continue;
        if (o == Outcome::kOk) {
          ++answered_;
          return now_ns() - t0;
        }
        break;  // a bad answer
      }
      // Out of step or closed: start a new connection (now for a retry, else next time).
      ::close(fd_);
      fd_ = -1;
      if (!(closed && reused && attempt == 0)) return -1;
      ++retries;  // the server closed a connection that had served us: send it again
    }
    return -1;
  }

  sockaddr_in server_;
  bool tcp_;
  sockaddr_in from_{};
  bool bind_ = false;
  int fd_ = -1;        // the TCP connection
  long answered_ = 0;  // answers it brought
  unsigned char buf_[65536];
};

double percentile_us(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()));  // nearest rank
  if (rank >= sorted.size()) rank = sorted.size() - 1;
  return static_cast<double>(sorted[rank]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 7) {
    std::fprintf(stderr, "usage: %s SERVER_IP PORT NAME COUNT [tcp] [from=ADDR]\n", argv[0]);
    return 2;
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1)
    die("not an IPv4 address: " + std::string(argv[1]));
  const std::string name = argv[3];
  const long count = std::atol(argv[4]);
  if (count <= kWarmup)
    die("COUNT must be more than the " + std::to_string(kWarmup) + " warm-up queries");
  bool tcp = false;
  sockaddr_in from{};
  bool have_from = false;
  for (int i = 5; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "tcp") {
      tcp = true;
    } else if (arg.rfind("from=", 0) == 0) {
      from.sin_family = AF_INET;
      if (inet_pton(AF_INET, arg.c_str() + 5, &from.sin_addr) != 1)
        die("not an IPv4 address: " + arg);
      have_from = true;
    } else {
      die("unknown argument " + arg + " (tcp or from=ADDR)");
    }
  }

  std::mt19937_64 rng{std::random_device{}()};
  const uint64_t cookie = rng();  // one client cookie per server, as dig keeps
  Client client(server, have_from ? &from : nullptr, tcp);
  std::vector<int64_t> lat;
  lat.reserve(static_cast<size_t>(count));
  long errors = 0, warm_errors = 0, warm_retries = 0;
  for (long i = 0; i < count; ++i) {
    if (i == kWarmup) warm_retries = client.retries;
    const auto id = static_cast<uint16_t>(rng());
    const std::string wire = dnsbench::query_wire(name, id, kTypeA, cookie);
    const int64_t ns = client.query(wire, id);
    if (i < kWarmup) {
      warm_errors += ns < 0;
      continue;
    }
    if (ns < 0)
      ++errors;
    else
      lat.push_back(ns);
  }
  if (warm_errors > 0)
    std::fprintf(stderr, "dns_query_client: %ld errors in the warm-up\n", warm_errors);
  std::sort(lat.begin(), lat.end());
  double sum = 0;
  for (int64_t v : lat) sum += static_cast<double>(v);
  const double mean = lat.empty() ? 0 : sum / static_cast<double>(lat.size()) / 1000.0;
  std::printf(
      "queries=%ld errors=%ld p50_us=%.1f p99_us=%.1f p999_us=%.1f mean_us=%.1f retries=%ld\n",
      count - kWarmup, errors, percentile_us(lat, 0.50), percentile_us(lat, 0.99),
      percentile_us(lat, 0.999), mean, client.retries - warm_retries);
  return 0;
}
