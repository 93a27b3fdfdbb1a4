#include "injector/intercept/http_fault_backend.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/hash.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "injector/backend_registry.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

std::string action_counts(const pb::InterceptorReport& r) {
  std::string out;
  auto add = [&](uint64_t n, const char* what) {
    if (n) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(r.aborted(), "aborted");
  add(r.delayed(), "delayed");
  add(r.replaced(), "replaced");
  add(r.reset(), "reset");
  add(r.passed(), "passed");
  return out;
}

}  // namespace

Result<std::string> read_tls_file(const std::string& path, bool secret) {
  auto refuse = [&](const std::string& why) -> Result<std::string> {
    return make_error(ErrorCode::kPermissionDenied, "http_fault tls: " + path + ": " + why);
  };
  if (path.empty() || path.front() != '/') return refuse("not an absolute path");
  // A handle that opens nothing (O_PATH: no device is touched, no terminal taken), found
  // without following a symbolic link anywhere on the path; then the type is checked, and only
  // a regular file is opened for reading, through that same handle.
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long handle;
  do handle = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
  while (handle < 0 && errno == EINTR);
  if (handle < 0)
    return refuse(errno == ELOOP ? "a symbolic link on the path" : std::strerror(errno));
  UniqueFd at(static_cast<int>(handle));
  struct stat st {};
  if (::fstat(at.get(), &st) != 0 || !S_ISREG(st.st_mode)) return refuse("not a regular file");
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) return refuse("not owned by root");
  if (st.st_mode & 022) return refuse("writable by group or others (chmod go-w)");
  if (secret && (st.st_mode & 077))
    return refuse("a private key others can read or write (chmod 600)");
  constexpr off_t kMax = 1 << 20;
  if (st.st_size > kMax) return refuse("larger than 1 MiB: not a PEM certificate or key");
  UniqueFd fd(::open(("/proc/self/fd/" + std::to_string(at.get())).c_str(),
                     O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat opened {};
  if (!fd || ::fstat(fd.get(), &opened) != 0 || opened.st_dev != st.st_dev ||
      opened.st_ino != st.st_ino)
    return refuse("could not be opened as the file that was checked");
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n <= 0) return refuse(n == 0 ? "shorter than it said" : std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  return out;
}

std::string HttpFaultBackend::describe_interception(const pb::InterceptorReport& r) {
  std::string out = std::to_string(r.requests()) + " requests (" + std::to_string(r.matched()) +
                    " matched a rule)";
  if (std::string counts = action_counts(r); !counts.empty()) out += ": " + counts;
  if (r.retired())
    out += "; " + std::to_string(r.retired()) + " earlier keep-alive connection" +
           (r.retired() == 1 ? "" : "s") + " retired" +
           (r.retired_busy() ? " (" + std::to_string(r.retired_busy()) + " busy at the deadline)"
                             : "");
  if (r.uninspected())
    out += "; " + std::to_string(r.uninspected()) + " connection" +
           (r.uninspected() == 1 ? "" : "s") + " passed through uninspected" +
           (r.tls() ? " (" + std::to_string(r.tls()) + " TLS: no certificate to terminate with)"
                    : " (not HTTP/1.x)");
  if (r.tls_terminated())
    out += "; " + std::to_string(r.tls_terminated()) + " over TLS (terminated)";
  if (r.tls_failed())
    out += "; " + std::to_string(r.tls_failed()) + " TLS handshake" +
           (r.tls_failed() == 1 ? "" : "s") + " failed";
  if (r.upstream_errors())
    out += "; " + std::to_string(r.upstream_errors()) + " upstream error" +
           (r.upstream_errors() == 1 ? "" : "s");
  return out;
}

Result<InterceptingBackend::Plan> HttpFaultBackend::plan(const pb::FaultSpec& spec) {
  const auto& f = spec.http_fault();
  if (f.scope().ports().empty())
    return make_error(ErrorCode::kInvalidArgument, "http_fault needs the HTTP ports in its scope");
  Plan p;
  p.scope = f.scope();
  *p.start.mutable_http() = f;
  if (f.has_tls()) {
    // Read here, as root and under the policy (reach names both paths), and handed to the
    // helper alone: it never opens a file once confined, and the key is in no record.
    auto certificate = read_tls_file(f.tls().certificate(), false);
    if (!certificate) return certificate.error();
    auto key = read_tls_file(f.tls().key(), true);
    if (!key) return key.error();
    p.start.set_tls_certificate_pem(std::move(*certificate));
    p.start.set_tls_key_pem(std::move(*key));
  }
  if (f.seed() == 0) p.start.mutable_http()->set_seed(fnv1a(spec.ShortDebugString()));
  const std::string dir = f.scope().direction() == "ingress" ? "ingress" : "egress";
  p.summary = "intercepting HTTP on " + describe_scope(f.scope(), dir) + ", " +
              std::to_string(f.rules_size()) + " rule" + (f.rules_size() == 1 ? "" : "s") +
              (f.has_tls() ? ", TLS terminated with " + f.tls().certificate() : "");
  return p;
}

std::vector<ChainSpec> HttpFaultBackend::chains(const std::string& fault_id, const Plan& p,
                                                const pb::InterceptorReport& ports) {
  return intercept::redirect_chains(fault_id, p.scope, p.scope.netns(),
                                    static_cast<uint16_t>(ports.port()),
                                    intercept::RedirectMode::kRedirect);
}

namespace {

BackendRegistration describe() {
  return {
      .kind = "http_fault",
      .make = [](BackendContext&) { return std::make_unique<HttpFaultBackend>(); },
      .reach =
          [](const pb::FaultSpec& spec) {
            FaultReach reach{.networks = {spec.http_fault().scope()}};
            // The files a certificate is read from are judged like any other path.
            if (spec.http_fault().has_tls())
              reach.paths = {spec.http_fault().tls().certificate(), spec.http_fault().tls().key()};
            return reach;
          }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);

}  // namespace faultline::injector
