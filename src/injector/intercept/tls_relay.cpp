#include "injector/intercept/tls_relay.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace faultline::injector::intercept {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = 16384;  // one TLS record's worth
constexpr auto kFlushLimit = std::chrono::seconds(2);

std::string openssl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

bool set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

int poll_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 1000)));
}

// Drives a handshake on a non-blocking socket to its end or the deadline.
bool handshake(SSL* ssl, int fd, Clock::time_point deadline) {
  for (;;) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) return true;
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
    if (Clock::now() >= deadline) return false;
    pollfd p{fd, static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    if (::poll(&p, 1, poll_ms(deadline)) < 0 && errno != EINTR) return false;
  }
}

// The server side offers HTTP/1.1 only: a client that asks for h2 goes on with HTTP/1.1 or
// not at all, never with a protocol the helper cannot read.
int select_http1(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                 unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// A socket pair: one end for the HTTP code, one for the relay.
bool plain_pair(UniqueFd& http_end, UniqueFd& relay_end) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  http_end = UniqueFd(fds[0]);
  relay_end = UniqueFd(fds[1]);
  return set_nonblocking(relay_end.get());
}

}  // namespace

TlsRelay::TlsRelay(SSL* ssl, UniqueFd network, UniqueFd relay_end)
    : ssl_(ssl), network_(std::move(network)), relay_end_(std::move(relay_end)) {}

TlsRelay::~TlsRelay() {
  if (thread_.joinable()) thread_.join();
  SSL_free(ssl_);
}

bool TlsRelay::start() {
  try {
    thread_ = std::thread([this] { run(); });
    return true;
  } catch (const std::system_error&) {
    return false;  // no thread to spare: the connection is refused, the helper goes on
  }
}

// Plaintext from the relay end goes out through TLS; what TLS delivers goes to the relay end.
// Non-blocking on both sides, one thread: progress on either side until neither can move, then
// a poll for what each side waits on.
void TlsRelay::run() {
  const int net = network_.get(), plain = relay_end_.get();
  std::string to_net, to_plain;
  char buf[kChunk];
  bool plain_eof = false, net_eof = false, closed_net = false, closed_plain = false;
  bool failed = false;
  bool plain_gone = false;  // the HTTP side closed: what TLS still delivers is dropped
  Clock::time_point flush_until{};
  while (!failed) {
    bool progress = false, net_wants_read = false, net_wants_write = false;
    if (to_net.empty() && !plain_eof) {
      ssize_t n = ::read(plain, buf, sizeof buf);
      if (n > 0) {
        to_net.assign(buf, static_cast<size_t>(n));
        progress = true;
      } else if (n == 0) {
        plain_eof = progress = true;
        flush_until = Clock::now() + kFlushLimit;
      } else if (errno != EAGAIN && errno != EINTR) {
        failed = true;  // the HTTP side reset its end: reset the client too
        break;
      }
    }
    if (!to_net.empty()) {
      int r = SSL_write(ssl_, to_net.data(), static_cast<int>(to_net.size()));
      if (r > 0) {
        to_net.erase(0, static_cast<size_t>(r));
        progress = true;
      } else {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ)
          net_wants_read = true;
        else if (e == SSL_ERROR_WANT_WRITE)
          net_wants_write = true;
        else
          failed = true;
      }
    }
    if (plain_eof && to_net.empty() && !closed_net) {
      SSL_shutdown(ssl_);  // close_notify, then the FIN: a clean end, not a truncation
      ::shutdown(net, SHUT_WR);
      closed_net = progress = true;
    }
    if (to_plain.empty() && !net_eof && !failed) {
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) {
        to_plain.assign(buf, static_cast<size_t>(r));
        progress = true;
      } else {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) {
          net_wants_read = true;
        } else if (e == SSL_ERROR_WANT_WRITE) {
          net_wants_write = true;
        } else {
          // close_notify, or a peer that just closed (many do): the end of its data.
          net_eof = progress = true;
          ERR_clear_error();
        }
      }
    }
    if (!to_plain.empty()) {
      ssize_t n = plain_gone ? static_cast<ssize_t>(to_plain.size())
                             : ::send(plain, to_plain.data(), to_plain.size(), MSG_NOSIGNAL);
      if (n > 0) {
        to_plain.erase(0, static_cast<size_t>(n));
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        // The HTTP side has closed (an answer with `Connection: close` while the client still
        // uploads): drop the rest rather than reset, which would discard that answer.
        plain_gone = progress = true;
        to_plain.clear();
      }
    }
    if (net_eof && to_plain.empty() && !closed_plain) {
      ::shutdown(plain, SHUT_WR);
      closed_plain = progress = true;
    }
    if (closed_net && closed_plain) break;
    // The HTTP side is done: the rest (both ways) may take as long as it keeps moving, but
    // 2 s without any progress ends it.
    if (plain_eof && progress) flush_until = Clock::now() + kFlushLimit;
    if (plain_eof && Clock::now() >= flush_until) break;
    if (progress) continue;
    pollfd p[2] = {{net, 0, 0}, {plain, 0, 0}};
    if (net_wants_read || (to_plain.empty() && !net_eof)) p[0].events |= POLLIN;
    if (net_wants_write) p[0].events |= POLLOUT;
    if (to_net.empty() && !plain_eof) p[1].events |= POLLIN;
    if (!to_plain.empty()) p[1].events |= POLLOUT;
    // Once both directions have nothing to wait for but a closed peer, stop.
    if (p[0].events == 0 && p[1].events == 0) break;
    // A side with nothing asked of it is left out: poll reports a hang-up even on a
    // descriptor with no events asked, and would wake at once, again and again.
    for (auto& one : p)
      if (one.events == 0) one.fd = -1;
    if (::poll(p, 2, plain_eof ? 100 : 1000) < 0 && errno != EINTR) failed = true;
  }
  if (failed) {
    linger l{1, 0};  // an error or a reset on one side is a reset on the other
    ::setsockopt(net, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  network_.reset();
  relay_end_.reset();
}

Result<std::unique_ptr<TlsTerminator>> TlsTerminator::make(const std::string& certificate_pem,
                                                           const std::string& key_pem) {
  OPENSSL_init_ssl(0, nullptr);
  std::unique_ptr<TlsTerminator> t(new TlsTerminator());
  t->server_ = SSL_CTX_new(TLS_server_method());
  t->client_ = SSL_CTX_new(TLS_client_method());
  if (!t->server_ || !t->client_)
    return make_error(ErrorCode::kInternal, openssl_error("TLS context"));
  SSL_CTX_set_min_proto_version(t->server_, TLS1_2_VERSION);
  SSL_CTX_set_min_proto_version(t->client_, TLS1_2_VERSION);
  BIO* certs = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
  X509* leaf = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr);
  if (!leaf || SSL_CTX_use_certificate(t->server_, leaf) != 1) {
    X509_free(leaf);
    BIO_free(certs);
    return make_error(ErrorCode::kInvalidArgument, openssl_error("the certificate file"));
  }
  X509_free(leaf);
  while (X509* chain = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr))
    SSL_CTX_add_extra_chain_cert(t->server_, chain);  // the context owns it now
  ERR_clear_error();                                  // the loop ends on "no start line"
  BIO_free(certs);
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  bool key_ok = key && SSL_CTX_use_PrivateKey(t->server_, key) == 1 &&
                SSL_CTX_check_private_key(t->server_) == 1;
  EVP_PKEY_free(key);
  if (!key_ok)
    return make_error(ErrorCode::kInvalidArgument,
                      openssl_error("the key file (or it does not match the certificate)"));
  SSL_CTX_set_alpn_select_cb(t->server_, select_http1, nullptr);
  SSL_CTX_set_mode(t->server_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_mode(t->client_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // The destination is the address the client itself dialed (SO_ORIGINAL_DST); its
  // certificate is not checked: the helper holds no CA store once confined.
  SSL_CTX_set_verify(t->client_, SSL_VERIFY_NONE, nullptr);
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(t->client_, kHttp11, sizeof kHttp11);
  return t;
}

TlsTerminator::~TlsTerminator() {
  SSL_CTX_free(server_);
  SSL_CTX_free(client_);
}

Result<std::unique_ptr<TlsRelay>> TlsTerminator::accept(UniqueFd client, Deadline deadline,
                                                        UniqueFd& plain, std::string& sni) const {
  UniqueFd relay_end;
  if (!set_nonblocking(client.get()) || !plain_pair(plain, relay_end))
    return make_error(ErrorCode::kInternal, std::strerror(errno));
  SSL* ssl = SSL_new(server_);
  if (!ssl) return make_error(ErrorCode::kInternal, openssl_error("SSL_new"));
  SSL_set_fd(ssl, client.get());
  SSL_set_accept_state(ssl);
  if (!handshake(ssl, client.get(), deadline)) {
    std::string why = openssl_error("TLS handshake with the client");
    SSL_free(ssl);
    return make_error(ErrorCode::kUnavailable, why);
  }
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) sni = name;
  return std::make_unique<TlsRelay>(ssl, std::move(client), std::move(relay_end));
}

Result<std::unique_ptr<TlsRelay>> TlsTerminator::connect(UniqueFd upstream, const std::string& sni,
                                                         Deadline deadline, UniqueFd& plain) const {
  UniqueFd relay_end;
  if (!set_nonblocking(upstream.get()) || !plain_pair(plain, relay_end))
    return make_error(ErrorCode::kInternal, std::strerror(errno));
  SSL* ssl = SSL_new(client_);
  if (!ssl) return make_error(ErrorCode::kInternal, openssl_error("SSL_new"));
  SSL_set_fd(ssl, upstream.get());
  SSL_set_connect_state(ssl);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  if (!handshake(ssl, upstream.get(), deadline)) {
    std::string why = openssl_error("TLS handshake with the server");
    SSL_free(ssl);
    return make_error(ErrorCode::kUnavailable, why);
  }
  return std::make_unique<TlsRelay>(ssl, std::move(upstream), std::move(relay_end));
}

bool starts_with_tls(int fd, TlsTerminator::Deadline deadline) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, poll_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    unsigned char first = 0;
    ssize_t n = ::recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    return n == 1 && first == 0x16;
  }
}

}  // namespace faultline::injector::intercept
