#include "injector/containers/unix_http.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

namespace faultline::injector {

namespace {

struct Sink {
  std::string* body;
  size_t max;
  bool overflow = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<UnixHttpResponse> unix_http(const std::string& socket, const std::string& method,
                                   const std::string& target, std::chrono::milliseconds timeout,
                                   size_t max_body) {
  init_curl_once();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  UnixHttpResponse resp;
  Sink sink{&resp.body, max_body};
  // The host part is ignored on a unix socket; "localhost" is what the Docker CLI sends.
  std::string url = "http://localhost" + target;
  curl_easy_setopt(curl.get(), CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl.get());
  if (sink.overflow)
    return make_error(ErrorCode::kUnavailable, method + " " + target + " on " + socket +
                                                   ": answer larger than " +
                                                   std::to_string(max_body) + " bytes");
  if (rc != CURLE_OK)
    return make_error(ErrorCode::kUnavailable,
                      method + " " + target + " on " + socket + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace faultline::injector
