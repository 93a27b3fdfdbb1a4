#include "injector/network/xt_ruleset.h"

#include <fcntl.h>
#include <libiptc/libiptc.h>
// Unlike libiptc.h, libip6tc.h declares its functions without extern "C".
extern "C" {
#include <libiptc/libip6tc.h>
}
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "common/log.h"
#include "common/unique_fd.h"
#include "injector/network/iptables_rule.h"
#include "injector/network/netns.h"

namespace faultline::injector {

namespace {

// libiptc's two halves (iptc_* for IPv4, ip6tc_* for IPv6) behind one set of names.
struct Ip4 {
  using Entry = ipt_entry;
  static xtc_handle* init(const char* t) { return iptc_init(t); }
  static void release(xtc_handle* h) { iptc_free(h); }
  static int commit(xtc_handle* h) { return iptc_commit(h); }
  static int is_chain(const char* c, xtc_handle* h) { return iptc_is_chain(c, h); }
  static int create_chain(const char* c, xtc_handle* h) { return iptc_create_chain(c, h); }
  static int delete_chain(const char* c, xtc_handle* h) { return iptc_delete_chain(c, h); }
  static int flush(const char* c, xtc_handle* h) { return iptc_flush_entries(c, h); }
  static int insert(const char* c, const Entry* e, unsigned n, xtc_handle* h) {
    return iptc_insert_entry(c, e, n, h);
  }
  static int append(const char* c, const Entry* e, xtc_handle* h) {
    return iptc_append_entry(c, e, h);
  }
  static int delete_num(const char* c, unsigned n, xtc_handle* h) {
    return iptc_delete_num_entry(c, n, h);
  }
  static const char* first_chain(xtc_handle* h) { return iptc_first_chain(h); }
  static const char* next_chain(xtc_handle* h) { return iptc_next_chain(h); }
  static const Entry* first_rule(const char* c, xtc_handle* h) { return iptc_first_rule(c, h); }
  static const Entry* next_rule(const Entry* e, xtc_handle* h) { return iptc_next_rule(e, h); }
  static const char* target(const Entry* e, xtc_handle* h) { return iptc_get_target(e, h); }
  static const char* error(int e) { return iptc_strerror(e); }

  static auto& header(Entry* e) { return e->ip; }
};

struct Ip6 {
  using Entry = ip6t_entry;
  static xtc_handle* init(const char* t) { return ip6tc_init(t); }
  static void release(xtc_handle* h) { ip6tc_free(h); }
  static int commit(xtc_handle* h) { return ip6tc_commit(h); }
  static int is_chain(const char* c, xtc_handle* h) { return ip6tc_is_chain(c, h); }
  static int create_chain(const char* c, xtc_handle* h) { return ip6tc_create_chain(c, h); }
  static int delete_chain(const char* c, xtc_handle* h) { return ip6tc_delete_chain(c, h); }
  static int flush(const char* c, xtc_handle* h) { return ip6tc_flush_entries(c, h); }
  static int insert(const char* c, const Entry* e, unsigned n, xtc_handle* h) {
    return ip6tc_insert_entry(c, e, n, h);
  }
  static int append(const char* c, const Entry* e, xtc_handle* h) {
    return ip6tc_append_entry(c, e, h);
  }
  static int delete_num(const char* c, unsigned n, xtc_handle* h) {
    return ip6tc_delete_num_entry(c, n, h);
  }
  static const char* first_chain(xtc_handle* h) { return ip6tc_first_chain(h); }
  static const char* next_chain(xtc_handle* h) { return ip6tc_next_chain(h); }
  static const Entry* first_rule(const char* c, xtc_handle* h) { return ip6tc_first_rule(c, h); }
  static const Entry* next_rule(const Entry* e, xtc_handle* h) { return ip6tc_next_rule(e, h); }
  static const char* target(const Entry* e, xtc_handle* h) { return ip6tc_get_target(e, h); }
  static const char* error(int e) { return ip6tc_strerror(e); }

  static auto& header(Entry* e) { return e->ipv6; }
};

// ---- Entries ----

// The two headers share their field names and inversion bits; only IPv6 needs a flag to say
// the protocol is set.
static_assert(IPT_INV_VIA_IN == IP6T_INV_VIA_IN && IPT_INV_VIA_OUT == IP6T_INV_VIA_OUT &&
              IPT_INV_SRCIP == IP6T_INV_SRCIP && IPT_INV_DSTIP == IP6T_INV_DSTIP);

template <typename Ip>
void fill_header(Ip& ip, const RuleMatch& m) {
  switch (m.kind) {
    case RuleMatch::kIface: {
      char* name = m.out ? ip.outiface : ip.iniface;
      unsigned char* mask = m.out ? ip.outiface_mask : ip.iniface_mask;
      std::memcpy(name, m.text.c_str(), m.text.size());
      // With the terminating NUL, as iptables does: "a0" must not match "a01".
      std::memset(mask, 0xFF, m.text.size() + 1);
      if (m.negate) ip.invflags |= m.out ? IPT_INV_VIA_OUT : IPT_INV_VIA_IN;
      break;
    }
    case RuleMatch::kAddr:
      static_assert(sizeof ip.dst == sizeof ip.dmsk);
      std::memcpy(m.out ? &ip.dst : &ip.src, m.addr.data(), sizeof ip.dst);
      std::memcpy(m.out ? &ip.dmsk : &ip.smsk, m.mask.data(), sizeof ip.dmsk);
      if (m.negate) ip.invflags |= m.out ? IPT_INV_DSTIP : IPT_INV_SRCIP;
      break;
    case RuleMatch::kProto:
      ip.proto = m.proto;
      if constexpr (std::is_same_v<Ip, ip6t_ip6>) ip.flags |= IP6T_F_PROTO;  // else ignored
      break;
    case RuleMatch::kMark:
      break;  // a match module, not part of the header
  }
}

// Appends a match or target record (same layout: a 32-byte header, then the module's data,
// XT_ALIGN'ed) to an entry being built; returns its size.
size_t add_record(std::vector<unsigned char>& buf, const char* name, uint8_t revision,
                  const void* data, size_t len) {
  static_assert(sizeof(xt_entry_match) == sizeof(xt_entry_target));
  size_t size = XT_ALIGN(sizeof(xt_entry_match) + len);
  size_t at = buf.size();
  buf.resize(at + size, 0);
  auto* rec = reinterpret_cast<xt_entry_match*>(buf.data() + at);
  rec->u.user.match_size = static_cast<uint16_t>(size);
  std::strncpy(rec->u.user.name, name, sizeof rec->u.user.name - 1);
  rec->u.user.revision = revision;
  std::memcpy(rec->data, data, len);
  return size;
}

// One entry: the rule's header matches, its port and mark matches, and its target (a jump to
// `jump` when given, else the rule's DROP or NFQUEUE).
template <typename T>
std::vector<unsigned char> build_entry(const ParsedRule& r, std::optional<uint16_t> port,
                                       const std::string& jump) {
  // Both entry headers are multiples of 8 bytes, so every record after them stays aligned.
  static_assert(sizeof(typename T::Entry) % 8 == 0);
  std::vector<unsigned char> buf(sizeof(typename T::Entry), 0);
  for (const auto& m : r.matches)
    fill_header(T::header(reinterpret_cast<typename T::Entry*>(buf.data())), m);
  if (port) {
    if (r.proto == IPPROTO_TCP) {
      xt_tcp tcp{};
      tcp.spts[1] = tcp.dpts[1] = 0xFFFF;
      auto& range = r.port_out ? tcp.dpts : tcp.spts;
      range[0] = range[1] = *port;  // host order, as the module compares
      add_record(buf, "tcp", 0, &tcp, sizeof tcp);
    } else {
      xt_udp udp{};
      udp.spts[1] = udp.dpts[1] = 0xFFFF;
      auto& range = r.port_out ? udp.dpts : udp.spts;
      range[0] = range[1] = *port;
      add_record(buf, "udp", 0, &udp, sizeof udp);
    }
  }
  for (const auto& m : r.matches) {
    if (m.kind != RuleMatch::kMark) continue;
    xt_mark_mtinfo1 mark{};
    mark.mark = m.mark;
    mark.mask = 0xFFFFFFFF;
    mark.invert = m.negate ? 1 : 0;
    add_record(buf, "mark", 1, &mark, sizeof mark);
  }
  size_t target_offset = buf.size();
  int verdict = 0;  // libiptc sets a standard target's verdict from its name
  if (!jump.empty()) {
    add_record(buf, jump.c_str(), 0, &verdict, sizeof verdict);
  } else if (r.queue) {
    xt_NFQ_info_v3 q{};
    q.queuenum = r.queue_num;
    q.queues_total = r.queue_total;
    q.flags = r.bypass ? NFQ_FLAG_BYPASS : 0;
    add_record(buf, "NFQUEUE", 3, &q, sizeof q);
  } else if (r.redirect_port != 0) {
    if constexpr (std::is_same_v<T, Ip4>) {
      nf_nat_ipv4_multi_range_compat nat{};
      nat.rangesize = 1;
      nat.range[0].flags = NF_NAT_RANGE_PROTO_SPECIFIED;
      nat.range[0].min.tcp.port = nat.range[0].max.tcp.port = htons(r.redirect_port);
      add_record(buf, "REDIRECT", 0, &nat, sizeof nat);
    } else {
      nf_nat_range nat{};
      nat.flags = NF_NAT_RANGE_PROTO_SPECIFIED;
      nat.min_proto.tcp.port = nat.max_proto.tcp.port = htons(r.redirect_port);
      add_record(buf, "REDIRECT", 0, &nat, sizeof nat);
    }
  } else {
    add_record(buf, "DROP", 0, &verdict, sizeof verdict);
  }
  auto* e = reinterpret_cast<typename T::Entry*>(buf.data());
  e->target_offset = static_cast<uint16_t>(target_offset);
  e->next_offset = static_cast<uint16_t>(buf.size());
  return buf;
}

// ---- Transactions ----

Error xt_error(const std::string& what, const char* why) {
  return Error{ErrorCode::kInternal, "x_tables: " + what + ": " + why};
}

// iptables' own lock: held from reading a table to replacing it, as iptables-legacy holds it,
// so neither overwrites the other's change. XTABLES_LOCKFILE moves it, as for iptables.
std::atomic<int> preopened_lock{-1};

class XtablesLock {
 public:
  XtablesLock() {
    const char* env = std::getenv("XTABLES_LOCKFILE");
    std::string path = env && *env ? env : "/run/xtables.lock";
    if (int fd = preopened_lock.load(); fd >= 0) {
      fd_ = UniqueFd(::dup(fd));  // a second descriptor of the same open file: same lock
      borrowed_ = true;
    } else {
      fd_ = UniqueFd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600));
    }
    if (fd_.get() < 0) {
      error_ = "open " + path + ": " + std::strerror(errno);
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() > deadline) {
        error_ = path + " held by another iptables for 10 s";
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  ~XtablesLock() {
    // A flock belongs to the open file, which the preopened descriptor keeps open.
    if (borrowed_ && fd_.get() >= 0) ::flock(fd_.get(), LOCK_UN);
  }
  const std::string& error() const { return error_; }

 private:
  UniqueFd fd_;  // closing it releases the lock
  bool borrowed_ = false;
  std::string error_;
};

// libiptc keeps a little state in globals (its error context): one transaction at a time.
std::mutex& libiptc_mutex() {
  static std::mutex mu;
  return mu;
}

// Reads `table` in `netns`, lets `edit` change it, and commits if it did. A replace the
// kernel refuses because the table changed since it was read (EAGAIN) is tried again.
template <typename T>
Status transact(const std::string& netns, const std::string& table,
                const std::function<Result<bool>(xtc_handle*)>& edit) {
  std::lock_guard guard(libiptc_mutex());
  XtablesLock lock;
  if (!lock.error().empty()) return xt_error("lock", lock.error().c_str());
  ScopedNetns in(netns);
  if (!in.ok()) return Error{ErrorCode::kUnavailable, in.error()};
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<xtc_handle, void (*)(xtc_handle*)> h(T::init(table.c_str()), T::release);
    if (!h) return xt_error("read table " + table, T::error(errno));
    auto changed = edit(h.get());
    if (!changed) return changed.error();
    if (!*changed) return Ok{};
    if (T::commit(h.get())) return Ok{};
    if (errno != EAGAIN || attempt >= 3) return xt_error("replace table " + table, T::error(errno));
  }
}

// Every jump to `chain` out, then its rules and the chain itself. False: no such chain.
template <typename T>
Result<bool> drop_chain(xtc_handle* h, const std::string& chain) {
  if (!T::is_chain(chain.c_str(), h)) return false;
  std::vector<std::pair<std::string, std::vector<unsigned>>> jumps;
  for (const char* c = T::first_chain(h); c; c = T::next_chain(h)) {
    std::vector<unsigned> at;
    unsigned n = 0;
    for (auto* e = T::first_rule(c, h); e; e = T::next_rule(e, h), ++n)
      if (chain == T::target(e, h)) at.push_back(n);
    if (!at.empty()) jumps.emplace_back(c, std::move(at));
  }
  for (auto& [from, at] : jumps)
    for (auto n = at.rbegin(); n != at.rend(); ++n)
      if (!T::delete_num(from.c_str(), *n, h))
        return xt_error("delete the jump to " + chain + " from " + from, T::error(errno));
  if (!T::flush(chain.c_str(), h)) return xt_error("flush " + chain, T::error(errno));
  if (!T::delete_chain(chain.c_str(), h)) return xt_error("delete " + chain, T::error(errno));
  return true;
}

template <typename T>
Status install_group(const std::vector<const ChainSpec*>& group) {
  const ChainSpec& first = *group[0];
  return transact<T>(first.netns, first.table, [&](xtc_handle* h) -> Result<bool> {
    for (const ChainSpec* spec : group) {
      // A chain of this name is a crash's leftover: replaced, not doubled.
      if (auto gone = drop_chain<T>(h, spec->chain); !gone) return gone.error();
      if (!T::create_chain(spec->chain.c_str(), h))
        return xt_error("create " + spec->chain, T::error(errno));
      for (const auto& args : spec->rules) {
        auto rule = parse_iptables_rule(args, spec->family, "x_tables");
        if (!rule) return rule.error();
        std::vector<std::optional<uint16_t>> ports(rule->ports.begin(), rule->ports.end());
        if (ports.empty()) ports.emplace_back(std::nullopt);
        for (const auto& port : ports) {
          auto entry = build_entry<T>(*rule, port, "");
          if (!T::append(spec->chain.c_str(),
                         reinterpret_cast<const typename T::Entry*>(entry.data()), h))
            return xt_error("add a rule to " + spec->chain, T::error(errno));
        }
      }
      auto hook = parse_iptables_rule(spec->hook_match, spec->family, "x_tables");
      if (!hook) return hook.error();
      auto jump = build_entry<T>(*hook, std::nullopt, spec->chain);
      if (!T::insert(spec->hook.c_str(), reinterpret_cast<const typename T::Entry*>(jump.data()), 0,
                     h))
        return xt_error("hook " + spec->chain + " into " + spec->hook, T::error(errno));
    }
    return true;
  });
}

template <typename T>
Status remove_group(const std::string& netns, const std::vector<const XtChain*>& group) {
  return transact<T>(netns, group[0]->table, [&](xtc_handle* h) -> Result<bool> {
    bool changed = false;
    for (const XtChain* c : group) {
      auto dropped = drop_chain<T>(h, c->chain);
      if (!dropped) return dropped.error();
      changed = changed || *dropped;
    }
    return changed;
  });
}

template <typename Item, typename KeyFn>
std::map<std::pair<int, std::string>, std::vector<const Item*>> by_family_and_table(
    const std::vector<Item>& items, KeyFn key) {
  std::map<std::pair<int, std::string>, std::vector<const Item*>> groups;
  for (const auto& i : items) groups[key(i)].push_back(&i);
  return groups;
}

}  // namespace

void xt_use_lock_file(int fd) {
  preopened_lock = fd;
}

bool xt_available() {
  static const bool available = [] {
    std::lock_guard guard(libiptc_mutex());
    std::unique_ptr<xtc_handle, void (*)(xtc_handle*)> h(Ip4::init("mangle"), Ip4::release);
    if (!h) spdlog::info("x_tables not usable in-process error=\"{}\"", Ip4::error(errno));
    return h != nullptr;
  }();
  return available;
}

Status xt_install(const std::vector<ChainSpec>& specs) {
  for (const auto& [key, group] : by_family_and_table(
           specs, [](const ChainSpec& s) { return std::make_pair(s.family, s.table); })) {
    Status s = key.first == 6 ? install_group<Ip6>(group) : install_group<Ip4>(group);
    if (!s) return s;
  }
  return Ok{};
}

Status xt_remove(const std::string& netns, const std::vector<XtChain>& chains) {
  if (!netns.empty() && netns_inode(netns) == 0) return Ok{};  // its rules went with it
  Status result = Ok{};
  for (const auto& [key, group] : by_family_and_table(
           chains, [](const XtChain& c) { return std::make_pair(c.family, c.table); })) {
    Status s = key.first == 6 ? remove_group<Ip6>(netns, group) : remove_group<Ip4>(netns, group);
    if (!s) result = s;
  }
  return result;
}

}  // namespace faultline::injector
