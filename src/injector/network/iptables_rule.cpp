#include "injector/network/iptables_rule.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace faultline::injector {

namespace {

Error bad(const char* backend, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, std::string(backend) + ": " + what};
}

Result<std::pair<std::vector<unsigned char>, std::vector<unsigned char>>> parse_cidr(
    const std::string& cidr, int family, const char* backend) {
  std::string addr = cidr.substr(0, cidr.find('/'));
  size_t bytes = family == 6 ? 16 : 4;
  std::vector<unsigned char> a(bytes), m(bytes, 0);
  if (inet_pton(family == 6 ? AF_INET6 : AF_INET, addr.c_str(), a.data()) != 1)
    return bad(backend, "not an address: " + cidr);
  int prefix = static_cast<int>(bytes * 8);
  if (auto slash = cidr.find('/'); slash != std::string::npos) {
    char* end = nullptr;
    long p = std::strtol(cidr.c_str() + slash + 1, &end, 10);
    if (*end != '\0' || end == cidr.c_str() + slash + 1 || p < 0 || p > prefix)
      return bad(backend, "bad prefix length in " + cidr);
    prefix = static_cast<int>(p);
  }
  for (int bit = 0; bit < prefix; ++bit)
    m[bit / 8] |= static_cast<unsigned char>(0x80 >> (bit % 8));
  for (size_t i = 0; i < bytes; ++i) a[i] &= m[i];
  return std::make_pair(a, m);
}

Result<uint8_t> proto_number(const std::string& p, const char* backend) {
  if (p == "tcp") return uint8_t{6};
  if (p == "udp") return uint8_t{17};
  if (p == "icmp") return uint8_t{1};
  if (p == "ipv6-icmp") return uint8_t{58};
  return bad(backend, "unknown protocol " + p);
}

Result<std::vector<uint16_t>> port_list(const std::string& list, const char* backend) {
  std::vector<uint16_t> out;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    std::string one = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    int v = std::atoi(one.c_str());
    if (v <= 0 || v > 65535) return bad(backend, "bad port " + one);
    out.push_back(static_cast<uint16_t>(v));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

}  // namespace

Result<ParsedRule> parse_iptables_rule(const std::vector<std::string>& args, int family,
                                       const char* backend) {
  ParsedRule r;
  bool negate = false, redirect = false;
  auto arg = [&](size_t& i) -> Result<std::string> {
    if (i + 1 >= args.size()) return bad(backend, args[i] + " needs a value");
    return args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "!") {
      negate = true;
      continue;
    }
    RuleMatch m{};
    m.negate = negate;
    negate = false;
    if (a == "-o" || a == "-i") {
      auto v = arg(i);
      if (!v) return v.error();
      if (v->empty() || v->size() >= 16) return bad(backend, "bad interface name " + *v);
      m.kind = RuleMatch::kIface;
      m.out = a == "-o";
      m.text = *v;
      r.matches.push_back(m);
    } else if (a == "-d" || a == "-s") {
      auto v = arg(i);
      if (!v) return v.error();
      auto c = parse_cidr(*v, family, backend);
      if (!c) return c.error();
      m.kind = RuleMatch::kAddr;
      m.out = a == "-d";
      m.addr = c->first;
      m.mask = c->second;
      r.matches.push_back(m);
    } else if (a == "-p") {
      auto v = arg(i);
      if (!v) return v.error();
      auto p = proto_number(*v, backend);
      if (!p) return p.error();
      if (m.negate) return bad(backend, "cannot express ! -p");
      m.kind = RuleMatch::kProto;
      m.proto = *p;
      r.proto = *p;
      r.matches.push_back(m);
    } else if (a == "--dport" || a == "--sport" || a == "--dports" || a == "--sports") {
      auto v = arg(i);
      if (!v) return v.error();
      if (r.proto != 6 && r.proto != 17) return bad(backend, a + " needs -p tcp or -p udp first");
      auto ports = port_list(*v, backend);
      if (!ports) return ports.error();
      r.ports = *ports;
      r.port_out = a[2] == 'd';
    } else if (a == "-m") {
      auto v = arg(i);  // the module is implied by the options that follow
      if (!v) return v.error();
      if (*v != "multiport" && *v != "mark") return bad(backend, "cannot express -m " + *v);
    } else if (a == "--mark") {
      auto v = arg(i);
      if (!v) return v.error();
      char* end = nullptr;
      unsigned long mark = std::strtoul(v->c_str(), &end, 0);
      if (v->empty() || *end != '\0' || mark > 0xFFFFFFFFul) return bad(backend, "bad mark " + *v);
      m.kind = RuleMatch::kMark;
      m.mark = static_cast<uint32_t>(mark);
      r.matches.push_back(m);
    } else if (a == "-j") {
      auto v = arg(i);
      if (!v) return v.error();
      if (*v == "NFQUEUE") {
        r.queue = true;
      } else if (*v == "REDIRECT") {
        redirect = true;
      } else if (*v != "DROP") {
        return bad(backend, "cannot express -j " + *v);
      }
    } else if (a == "--queue-num") {
      auto v = arg(i);
      if (!v) return v.error();
      r.queue_num = static_cast<uint16_t>(std::atoi(v->c_str()));
    } else if (a == "--queue-balance") {
      auto v = arg(i);
      if (!v) return v.error();
      int first = std::atoi(v->c_str()), last = first;
      if (auto colon = v->find(':'); colon != std::string::npos)
        last = std::atoi(v->c_str() + colon + 1);
      r.queue_num = static_cast<uint16_t>(first);
      r.queue_total = static_cast<uint16_t>(std::max(1, last - first + 1));
    } else if (a == "--queue-bypass") {
      r.bypass = true;
    } else if (a == "--to-ports") {
      auto v = arg(i);
      if (!v) return v.error();
      int port = std::atoi(v->c_str());
      if (port <= 0 || port > 65535 || std::to_string(port) != *v)
        return bad(backend, "bad port " + *v + " for --to-ports (one port)");
      r.redirect_port = static_cast<uint16_t>(port);
    } else {
      return bad(backend, "cannot express " + a);
    }
  }
  if (redirect != (r.redirect_port != 0))
    return bad(backend, redirect ? "-j REDIRECT needs --to-ports" : "--to-ports needs -j REDIRECT");
  if (redirect && r.proto != 6 && r.proto != 17)
    return bad(backend, "-j REDIRECT needs -p tcp or -p udp");
  return r;
}

}  // namespace faultline::injector
