// faultline-demo: a tiny HTTP service and a restarting supervisor for it, so the quickstart
// and the tests have a real process to hurt and a real recovery to measure.
//
//   faultline-demo serve --port P [--pidfile F]
//   faultline-demo supervise --port P --pidfile F [--restart-delay 200ms]
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/duration.h"

namespace {

void write_pidfile(const std::string& path, pid_t pid) {
  // Write-then-rename so a reader never sees a half-written PID.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid << "\n";
  }
  std::filesystem::rename(tmp, path);
}

int serve(const std::string& address, int port, const std::string& pidfile) {
  httplib::Server server;
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello from faultline-demo pid " + std::to_string(getpid()) + "\n",
                    "text/plain");
  });
  if (!server.bind_to_port(address, port)) {
    std::fprintf(stderr, "faultline-demo: cannot listen on %s:%d\n", address.c_str(), port);
    return 3;
  }
  if (!pidfile.empty()) write_pidfile(pidfile, getpid());
  std::thread stopper([&server] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    server.stop();
  });
  stopper.detach();
  server.listen_after_bind();
  if (!pidfile.empty()) std::filesystem::remove(pidfile);
  return 0;
}

int supervise(const char* self, const std::string& address, int port, const std::string& pidfile,
              faultline::Duration restart_delay) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  pid_t supervisor = getpid();

  auto start_worker = [&]() -> pid_t {
    pid_t pid = fork();
    if (pid == 0) {
      // The worker dies with its supervisor, so a killed quickstart leaves no orphan.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != supervisor) _exit(1);
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      sigset_t serve_set;
      sigemptyset(&serve_set);
      sigaddset(&serve_set, SIGTERM);
      sigaddset(&serve_set, SIGINT);
      pthread_sigmask(SIG_BLOCK, &serve_set, nullptr);  // the serve stopper thread waits on these
      std::string port_s = std::to_string(port);
      execl(self, self, "serve", "--address", address.c_str(), "--port", port_s.c_str(),
            "--pidfile", pidfile.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  };

  pid_t worker = start_worker();
  std::fprintf(stderr, "faultline-demo: supervisor pid %d started worker pid %d\n", getpid(),
               worker);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGCHLD) {
      int status = 0;
      pid_t done;
      bool worker_died = false;
      while ((done = waitpid(-1, &status, WNOHANG)) > 0)
        if (done == worker) worker_died = true;
      if (!worker_died) continue;
      std::fprintf(stderr, "faultline-demo: worker %d exited (%s %d), restarting in %s\n", worker,
                   WIFSIGNALED(status) ? "signal" : "status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                   faultline::format_duration(restart_delay).c_str());
      std::this_thread::sleep_for(restart_delay);
      worker = start_worker();
      continue;
    }
    kill(worker, SIGTERM);
    // A paused worker cannot act on SIGTERM; wake it so it can.
    kill(worker, SIGCONT);
    waitpid(worker, nullptr, 0);
    std::filesystem::remove(pidfile);
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultline-demo: a demo HTTP service and its supervisor"};
  app.require_subcommand(1);
  int port = 18080;
  std::string pidfile;
  std::string delay = "200ms";
  // Loopback unless told otherwise: a lab node (scripts/lab.sh) serves its namespace's address.
  std::string address = "127.0.0.1";
  auto* serve_cmd =
      app.add_subcommand("serve", "serve GET /health and GET / (127.0.0.1 unless --address)");
  serve_cmd->add_option("--address", address, "address to listen on");
  serve_cmd->add_option("--port", port);
  serve_cmd->add_option("--pidfile", pidfile);
  auto* sup_cmd = app.add_subcommand("supervise", "run `serve` and restart it whenever it dies");
  sup_cmd->add_option("--address", address, "address the worker listens on");
  sup_cmd->add_option("--port", port);
  sup_cmd->add_option("--pidfile", pidfile)->required();
  sup_cmd->add_option("--restart-delay", delay);
  CLI11_PARSE(app, argc, argv);

  if (*serve_cmd) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return serve(address, port, pidfile);
  }
  auto d = faultline::parse_duration(delay);
  if (!d) {
    std::fprintf(stderr, "faultline-demo: --restart-delay: %s\n", d.error().message.c_str());
    return 3;
  }
  std::string self = std::filesystem::canonical("/proc/self/exe");
  return supervise(self.c_str(), address, port, std::filesystem::absolute(pidfile), *d);
}
