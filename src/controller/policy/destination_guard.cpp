#include "controller/policy/destination_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace faultline::controller {
namespace {

// An address as 16 bytes (IPv4 as IPv4-mapped IPv6), so one comparison serves both.
using Bytes = std::array<unsigned char, 16>;

std::optional<Bytes> parse_address(const std::string& text) {
  Bytes b{};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    b[10] = b[11] = 0xff;
    std::memcpy(&b[12], &v4, 4);
    return b;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(b.data(), &v6, 16);
    return b;
  }
  return std::nullopt;
}

bool is_v4(const Bytes& b) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b.data(), kMapped, 12) == 0;
}

struct Cidr {
  Bytes base{};
  int bits = 128;  // in the 16-byte form
  bool contains(const Bytes& a) const {
    for (int i = 0; i < bits; ++i) {
      int byte = i / 8, bit = 7 - i % 8;
      if (((a[byte] >> bit) & 1) != ((base[byte] >> bit) & 1)) return false;
    }
    return true;
  }
};

std::optional<Cidr> parse_cidr(const std::string& text) {
  size_t slash = text.find('/');
  auto addr = parse_address(text.substr(0, slash));
  if (!addr) return std::nullopt;
  int max = is_v4(*addr) ? 32 : 128;
  int bits = max;
  if (slash != std::string::npos) {
    std::string n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), ::isdigit)) return {};
    bits = std::stoi(n);
    if (bits > max) return std::nullopt;
  }
  return Cidr{*addr, bits + (max == 32 ? 96 : 0)};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!s.empty() && s.back() == '.') s.pop_back();  // "metadata.google.internal."
  return s;
}

bool name_matches(const std::string& rule, const std::string& host) {
  std::string r = lower(rule), h = lower(host);
  if (r.rfind("*.", 0) == 0) return h.size() > r.size() - 1 && h.ends_with(r.substr(1));
  return r == h;
}

// Where a cloud's instance metadata (credentials included) is served: never a probe's business.
const std::vector<std::string> kLinkLocal = {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                                             "100.100.100.200/32"};
const std::vector<std::string> kMetadataNames = {"metadata.google.internal", "metadata",
                                                 "metadata.azure.com", "instance-data",
                                                 "instance-data.ec2.internal"};

// The rule `address` (or `host`, for names) falls under, or "".
std::string matching_rule(const std::vector<std::string>& rules, const std::string& host,
                          const std::optional<Bytes>& address) {
  for (const auto& r : rules) {
    if (auto c = parse_cidr(r)) {
      if (address && c->contains(*address)) return r;
    } else if (name_matches(r, host)) {
      return r;
    }
  }
  return "";
}

std::vector<std::string> resolve(const std::string& host, std::string& error) {
  if (parse_address(host)) return {host};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    error = std::string("cannot resolve: ") + gai_strerror(rc);
    return {};
  }
  std::vector<std::string> out;
  for (addrinfo* p = res; p; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* a =
        p->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr);
    if (inet_ntop(p->ai_family, a, buf, sizeof buf) &&
        std::find(out.begin(), out.end(), buf) == out.end())
      out.push_back(buf);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace

std::string check_host_rule(const std::string& rule) {
  if (rule.empty()) return "is empty";
  if (rule.find('/') != std::string::npos)
    return parse_cidr(rule) ? "" : "\"" + rule + "\" is not a CIDR (e.g. 10.0.0.0/8, fd00::/8)";
  if (parse_address(rule)) return "";
  std::string name = rule.rfind("*.", 0) == 0 ? rule.substr(2) : rule;
  bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
  return ok ? "" : "\"" + rule + "\" is not an address, CIDR, host name or *.suffix";
}

DestinationGuard::DestinationGuard(HostRules rules, std::string policy_source)
    : restricted_(true), rules_(std::move(rules)), source_(std::move(policy_source)) {}

std::string DestinationGuard::refusal(const std::string& host) const {
  if (!restricted_) return "";
  if (std::string why = check_name(host); !why.empty()) return why;
  std::string error;
  std::vector<std::string> addresses = resolve(host, error);
  if (addresses.empty()) {
    // Not resolvable now (it may be by the time the probe runs): the probe's connection is
    // checked then. Only an allow list that would need the addresses refuses it here.
    if (rules_.allow.empty() || !matching_rule(rules_.allow, host, std::nullopt).empty()) return "";
    return host + " cannot be checked against the controller policy " + source_ +
           "'s hosts.allow: " + error;
  }
  return check(host, addresses);
}

std::string DestinationGuard::check_name(const std::string& host) const {
  if (!rules_.link_local)
    if (std::string r = matching_rule(kMetadataNames, host, std::nullopt); !r.empty())
      return host +
             " is a cloud metadata service, never reachable from a submitted experiment "
             "(built-in rule; the controller policy's hosts.link_local lifts it)";
  if (std::string r = matching_rule(rules_.deny, host, std::nullopt); !r.empty())
    return host + " is denied by the controller policy " + source_ + " (hosts.deny: " + r + ")";
  return "";
}

std::string DestinationGuard::check(const std::string& host,
                                    const std::vector<std::string>& addresses) const {
  if (std::string why = check_name(host); !why.empty()) return why;
  // Every address must pass: a name allowed by the allow list still meets the deny rules
  // and the built-in one through its addresses.
  for (const auto& a : addresses) {
    auto bytes = parse_address(a);
    std::string shown = a == host ? host : host + " (" + a + ")";
    if (!rules_.link_local)
      if (std::string r = matching_rule(kLinkLocal, host, bytes); !r.empty())
        return shown + " is link-local or a cloud metadata address (" + r +
               "), never reachable from a submitted experiment (built-in rule; the controller "
               "policy's hosts.link_local lifts it)";
    if (std::string r = matching_rule(rules_.deny, host, bytes); !r.empty())
      return shown + " is denied by the controller policy " + source_ + " (hosts.deny: " + r + ")";
    if (!rules_.allow.empty() && matching_rule(rules_.allow, host, bytes).empty())
      return shown + " is not allowed by the controller policy " + source_ +
             " (no hosts.allow rule matches it)";
  }
  return "";
}

Result<std::string> DestinationGuard::pin(const std::string& host) const {
  if (!restricted_) return host;
  std::string error;
  auto addresses = resolve(host, error);
  if (addresses.empty()) return make_error(ErrorCode::kUnavailable, host + ": " + error);
  // What is checked is what is connected to: the caller dials this address, not the name.
  if (std::string why = check(host, addresses); !why.empty())
    return make_error(ErrorCode::kPermissionDenied, why);
  return addresses.front();
}

std::string host_of_url(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  return host_of_address(authority);
}

std::string host_of_address(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    return close == std::string::npos ? "" : address.substr(1, close - 1);
  }
  size_t colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) != std::string::npos)
    return address;  // a bare IPv6 address
  return address.substr(0, colon);
}

}  // namespace faultline::controller
