// A TCP ping-pong for bench/proxy_bench.sh, in C++ so that the round trip is not an
// interpreter's: `serve PORT CPU` echoes every connection (one thread each, pinned to CPU);
// `ping CPU N PORT...` opens one connection per port (TCP_NODELAY, 32-byte messages) and
// measures N round trips on each, interleaved in rounds of 500 across the ports so that the
// paths share whatever the machine was doing. Prints "PORT p50 p99" in µs per port.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int serve(int port, int cpu) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = loopback(port);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(s, 64) != 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int c = accept(s, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c, cpu] {
      pin(cpu);
      nodelay(c);
      char buf[65536];
      for (;;) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(c, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
      close(c);
    }).detach();
  }
}

int ping(int cpu, int n, const std::vector<int>& ports) {
  pin(cpu);
  std::vector<int> fds;
  for (int port : ports) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      perror("connect");
      return 1;
    }
    nodelay(fd);
    fds.push_back(fd);
  }
  std::vector<std::vector<double>> rtt(ports.size());
  char msg[32];
  memset(msg, 'x', sizeof(msg));
  char buf[64];
  const int kRound = 500, kWarm = 200;
  for (int done = -kWarm; done < n; done += kRound) {
    for (size_t p = 0; p < fds.size(); ++p) {
      for (int i = 0; i < kRound; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        if (write(fds[p], msg, sizeof(msg)) != sizeof(msg)) return 1;
        size_t got = 0;
        while (got < sizeof(msg)) {
          ssize_t r = read(fds[p], buf, sizeof(buf));
          if (r <= 0) return 1;
          got += static_cast<size_t>(r);
        }
        auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                      .count();
        if (done >= 0) rtt[p].push_back(us);
      }
    }
  }
  for (size_t p = 0; p < ports.size(); ++p) {
    auto& v = rtt[p];
    std::sort(v.begin(), v.end());
    std::printf("%d %.1f %.1f\n", ports[p], v[v.size() / 2], v[v.size() * 99 / 100]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "serve") return serve(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 5 && std::string(argv[1]) == "ping") {
    std::vector<int> ports;
    for (int i = 4; i < argc; ++i) ports.push_back(atoi(argv[i]));
    return ping(atoi(argv[2]), atoi(argv[3]), ports);
  }
  std::fprintf(stderr, "usage: tcp_pingpong serve PORT CPU | ping CPU N PORT...\n");
  return 2;
}
