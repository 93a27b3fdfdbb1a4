// TLS termination for http_fault: the helper answers a client's TLS with the certificate the
// fault gave, and opens TLS of its own to the original destination. Each TLS connection is
// owned by one relay thread that moves plaintext between it and one end of a socket pair, so
// the HTTP code (http_connection) reads and writes plain bytes on the other end exactly as on
// a plain connection; OpenSSL objects are never touched by two threads.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"

namespace faultline::injector::intercept {

// One TLS connection and its relay. Destroying it waits for the relay, which ends when either
// side has closed (the plaintext end closing sends close_notify and a FIN; the peer closing
// ends the plaintext end) or on an error (the network side is then reset).
class TlsRelay {
 public:
  TlsRelay(SSL* ssl, UniqueFd network, UniqueFd relay_end);
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  // False when no thread could be started (the relay then ends with its sockets closed).
  bool start();

 private:
  void run();

  SSL* ssl_;
  UniqueFd network_, relay_end_;
  std::thread thread_;
};

class TlsTerminator {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // From the PEM contents the injector read; the certificate may be followed by its chain.
  // Built before the helper confines itself (OpenSSL reads its configuration at start-up).
  static Result<std::unique_ptr<TlsTerminator>> make(const std::string& certificate_pem,
                                                     const std::string& key_pem);
  ~TlsTerminator();

  // The handshake with the client on `client` (its first byte a TLS handshake record). On
  // success `plain` is the end the HTTP code uses and `sni` the name the client asked for.
  Result<std::unique_ptr<TlsRelay>> accept(UniqueFd client, Deadline deadline, UniqueFd& plain,
                                           std::string& sni) const;
  // TLS to the destination on the connected `upstream`, naming `sni`, offering HTTP/1.1 only.
  Result<std::unique_ptr<TlsRelay>> connect(UniqueFd upstream, const std::string& sni,
                                            Deadline deadline, UniqueFd& plain) const;

 private:
  TlsTerminator() = default;
  SSL_CTX* server_ = nullptr;
  SSL_CTX* client_ = nullptr;
};

// The first byte of a TLS connection is a handshake record (0x16); waits up to `deadline` for
// the client's first byte without consuming it. False for plain HTTP, and for a client that
// says nothing in time.
bool starts_with_tls(int fd, TlsTerminator::Deadline deadline);

}  // namespace faultline::injector::intercept
