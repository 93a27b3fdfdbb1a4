// An open-loop HTTP/1.1 load client for bench/http_fault_bench.sh: request i is due at
// t0 + i/rate, sent round-robin over `connections` keep-alive connections (TCP_NODELAY, one
// thread each, one request in flight per connection), and timed from when it was *due* to the
// last byte of its response. A request that waits behind a slow one on its connection counts
// that wait (no coordinated omission). Responses must be `HTTP/1.x` with a Content-Length;
// anything else (chunked, no length, bytes nobody asked for) stops the client with exit 2.
// Usage: http_path_client HOST PORT PATH RATE_PER_S SECONDS CONNECTIONS WARMUP_S
// Prints: requests=N errors=E p50_us=.. p99_us=.. p999_us=.. max_us=..   (warm-up left out;
// a non-2xx answer, a closed or reset connection or a 5 s wait is an error, then reconnects);
// on stderr, how late the requests were sent: send_late_p50_us=.. send_late_p99_us=..
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int kTimeoutMs = 5000;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_ns(int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "http_path_client: %s\n", why.c_str());
  std::exit(2);
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Head {
  int status = 0;
  uint64_t length = 0;
  bool close = false;
};

// Parses a response head (up to and including the blank line); dies on what it cannot frame.
Head parse_head(std::string_view head) {
  Head h;
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ')
    die("not an HTTP/1.x status line: " + std::string(status_line));
  h.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  bool have_length = false;
  for (size_t at = eol + 2; at < head.size();) {
    size_t end = head.find("\r\n", at);
    std::string_view line = head.substr(at, end - at);
    at = end + 2;
    if (line.empty()) break;
    if (iequals_prefix(line, "content-length:")) {
      std::string v(trim(line.substr(15)));
      char* stop = nullptr;
      h.length = std::strtoull(v.c_str(), &stop, 10);
      if (v.empty() || *stop != '\0') die("bad Content-Length: " + v);
      have_length = true;
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      die("Transfer-Encoding in the response (the client reads Content-Length only): " +
          std::string(line));
    } else if (iequals_prefix(line, "connection:")) {
      std::string v(trim(line.substr(11)));
      for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      h.close = v == "close";
    }
  }
  if (!have_length)
    die("response without Content-Length (status " + std::to_string(h.status) + ")");
  return h;
}

int open_connection(const addrinfo* ai) {
  int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
    die(std::string("connect: ") + strerror(errno));
  return fd;
}

// Reads until `buf` holds at least `want` bytes (or a head's end when want == 0); false on
// close, error or timeout.
bool read_more(int fd, std::string& buf, int64_t deadline_ns) {
  char chunk[16384];
  for (;;) {
    int64_t left_ms = (deadline_ns - now_ns()) / 1'000'000;
    if (left_ms <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

struct Result {
  std::vector<int64_t> latency_ns;  // measured requests that got a 2xx
  std::vector<int64_t> late_ns;     // measured requests: from due to sent
  uint64_t measured = 0, errors = 0;
};

// Sends requests first, first + step, ... (each due at t0 + i * period) on one connection.
void run_connection(const addrinfo* ai, const std::string& request, uint64_t first, uint64_t step,
                    uint64_t total, uint64_t warmup, int64_t t0, double period_ns, Result& out) {
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake at the due time, not up to 50 µs after it
  int fd = open_connection(ai);
  std::string buf;
  for (uint64_t i = first; i < total; i += step) {
    const int64_t due = t0 + static_cast<int64_t>(static_cast<double>(i) * period_ns);
    sleep_until_ns(due);
    const bool measured = i >= warmup;
    if (measured) out.measured++;
    if (measured) out.late_ns.push_back(now_ns() - due);
    bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(request.size());
    Head h;
    size_t head_end = std::string::npos;
    const int64_t deadline = now_ns() + int64_t{kTimeoutMs} * 1'000'000;
    while (ok && (head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > 65536) die("response head over 64 KiB");
      ok = read_more(fd, buf, deadline);
    }
    if (ok) {
      h = parse_head(std::string_view(buf).substr(0, head_end + 4));
      buf.erase(0, head_end + 4);
      while (ok && buf.size() < h.length) ok = read_more(fd, buf, deadline);
    }
    const int64_t done = now_ns();
    if (ok) {
      if (buf.size() > h.length) die("bytes after the response that no request asked for");
      buf.clear();
      if (measured) {
        if (h.status >= 200 && h.status < 300)
          out.latency_ns.push_back(done - due);
        else
          out.errors++;
      }
    } else if (measured) {
      out.errors++;
    }
    if (!ok || h.close) {  // start over on a new connection
      ::close(fd);
      buf.clear();
      fd = open_connection(ai);
    }
  }
  ::close(fd);
}

double pct_us(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  size_t rank = static_cast<size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT PATH RATE_PER_S SECONDS CONNECTIONS WARMUP_S\n"
                 "  open-loop HTTP/1.1 GETs; latency from each request's due time\n",
                 argv[0]);
    return 1;
  }
  const std::string host = argv[1], port = argv[2], path = argv[3];
  const double rate = std::atof(argv[4]), seconds = std::atof(argv[5]);
  const int connections = std::atoi(argv[6]);
  const double warmup_s = std::atof(argv[7]);
  if (rate <= 0 || seconds <= 0 || connections <= 0 || warmup_s < 0 || path.empty() ||
      path[0] != '/')
    die("RATE_PER_S, SECONDS and CONNECTIONS must be > 0, WARMUP_S >= 0, PATH start with /");

  addrinfo hints{}, *ai = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int e = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &ai); e != 0)
    die(std::string("resolve ") + host + ": " + gai_strerror(e));
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port +
                              "\r\nUser-Agent: http_path_client\r\n\r\n";

  const auto warmup = static_cast<uint64_t>(warmup_s * rate);
  const uint64_t total = warmup + static_cast<uint64_t>(seconds * rate);
  const double period_ns = 1e9 / rate;
  // Every connection is opened by its thread before t0 (connect is quick next to 200 ms).
  const int64_t t0 = now_ns() + 200'000'000;
  std::vector<Result> results(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c)
    threads.emplace_back(run_connection, ai, std::cref(request), static_cast<uint64_t>(c),
                         static_cast<uint64_t>(connections), total, warmup, t0, period_ns,
                         std::ref(results[static_cast<size_t>(c)]));
  for (auto& t : threads) t.join();
  ::freeaddrinfo(ai);

  std::vector<int64_t> all, late;
  uint64_t measured = 0, errors = 0;
  for (const auto& r : results) {
    all.insert(all.end(), r.latency_ns.begin(), r.latency_ns.end());
    late.insert(late.end(), r.late_ns.begin(), r.late_ns.end());
    measured += r.measured;
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  std::sort(late.begin(), late.end());
  std::printf("requests=%llu errors=%llu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
              static_cast<unsigned long long>(measured), static_cast<unsigned long long>(errors),
              pct_us(all, 0.50), pct_us(all, 0.99), pct_us(all, 0.999),
              all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0);
  // How late the client itself sent (its own wake-up and the wait behind the previous
  // response on the connection): part of every path's latency, on stderr for diagnosis.
  std::fprintf(stderr, "send_late_p50_us=%.1f send_late_p99_us=%.1f\n", pct_us(late, 0.50),
               pct_us(late, 0.99));
  return 0;
}
