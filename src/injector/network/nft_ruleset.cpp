#include "injector/network/nft_ruleset.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/unique_fd.h"
#include "fmt/format.h"
#include "injector/network/iptables_rule.h"
#include "injector/network/netlink_builder.h"
#include "injector/network/netns.h"

namespace faultline::injector {

namespace {

// From <linux/netfilter.h>, which clashes with <netinet/in.h>.
constexpr uint32_t kDrop = 0;
constexpr uint32_t kAccept = 1;
constexpr uint8_t kProtoIpv4 = 2, kProtoIpv6 = 10;
constexpr uint32_t kPreRouting = 0, kLocalIn = 1, kLocalOut = 3, kPostRouting = 4;
constexpr uint16_t kNfqFlagBypass = 0x01;
constexpr const char* kTable = "faultline";

uint16_t nft_type(uint8_t msg) {
  return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

uint8_t nfproto(int family) {
  return family == 6 ? kProtoIpv6 : kProtoIpv4;
}

// ---- Expressions ----

void expr_begin(NetlinkBuilder& b, const char* name, size_t& elem, size_t& data) {
  elem = b.begin_nested(NFTA_LIST_ELEM);
  b.put_string(NFTA_EXPR_NAME, name);
  data = b.begin_nested(NFTA_EXPR_DATA);
}

void expr_end(NetlinkBuilder& b, size_t elem, size_t data) {
  b.end_nested(data);
  b.end_nested(elem);
}

void meta(NetlinkBuilder& b, uint32_t key) {
  size_t e, d;
  expr_begin(b, "meta", e, d);
  b.put_be32(NFTA_META_DREG, NFT_REG_1);
  b.put_be32(NFTA_META_KEY, key);
  expr_end(b, e, d);
}

void payload(NetlinkBuilder& b, uint32_t base, uint32_t offset, uint32_t len) {
  size_t e, d;
  expr_begin(b, "payload", e, d);
  b.put_be32(NFTA_PAYLOAD_DREG, NFT_REG_1);
  b.put_be32(NFTA_PAYLOAD_BASE, base);
  b.put_be32(NFTA_PAYLOAD_OFFSET, offset);
  b.put_be32(NFTA_PAYLOAD_LEN, len);
  expr_end(b, e, d);
}

void data_value(NetlinkBuilder& b, uint16_t type, const void* v, size_t len) {
  size_t n = b.begin_nested(type);
  b.put(NFTA_DATA_VALUE, v, len);
  b.end_nested(n);
}

void cmp(NetlinkBuilder& b, bool negate, const void* v, size_t len) {
  size_t e, d;
  expr_begin(b, "cmp", e, d);
  b.put_be32(NFTA_CMP_SREG, NFT_REG_1);
  b.put_be32(NFTA_CMP_OP, negate ? NFT_CMP_NEQ : NFT_CMP_EQ);
  data_value(b, NFTA_CMP_DATA, v, len);
  expr_end(b, e, d);
}

void mask(NetlinkBuilder& b, const std::vector<unsigned char>& m) {
  size_t e, d;
  expr_begin(b, "bitwise", e, d);
  b.put_be32(NFTA_BITWISE_SREG, NFT_REG_1);
  b.put_be32(NFTA_BITWISE_DREG, NFT_REG_1);
  b.put_be32(NFTA_BITWISE_LEN, static_cast<uint32_t>(m.size()));
  std::vector<unsigned char> zero(m.size(), 0);
  data_value(b, NFTA_BITWISE_MASK, m.data(), m.size());
  data_value(b, NFTA_BITWISE_XOR, zero.data(), zero.size());
  expr_end(b, e, d);
}

void drop(NetlinkBuilder& b) {
  size_t e, d;
  expr_begin(b, "immediate", e, d);
  b.put_be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
  size_t data = b.begin_nested(NFTA_IMMEDIATE_DATA);
  size_t verdict = b.begin_nested(NFTA_DATA_VERDICT);
  b.put_be32(NFTA_VERDICT_CODE, kDrop);
  b.end_nested(verdict);
  b.end_nested(data);
  expr_end(b, e, d);
}

// xt_NFQUEUE revision 3 through nft_compat (this kernel has no nft_queue).
void nfqueue(NetlinkBuilder& b, const ParsedRule& r) {
  size_t e, d;
  expr_begin(b, "target", e, d);
  b.put_string(NFTA_TARGET_NAME, "NFQUEUE");
  b.put_be32(NFTA_TARGET_REV, 3);
  unsigned char info[8] = {};  // struct xt_NFQ_info_v3, XT_ALIGN'ed to 8
  uint16_t fields[3] = {r.queue_num, r.queue_total,
                        static_cast<uint16_t>(r.bypass ? kNfqFlagBypass : 0)};
  std::memcpy(info, fields, sizeof fields);
  b.put(NFTA_TARGET_INFO, info, sizeof info);
  expr_end(b, e, d);
}

// nf_tables' own redir expression, with the port loaded into a register first (network
// order, as the kernel reads it). Not xt_REDIRECT through nft_compat as NFQUEUE is: that
// target checks it sits in a table named "nat", and faultline's table is its own.
void redirect(NetlinkBuilder& b, const ParsedRule& r) {
  size_t e, d;
  expr_begin(b, "immediate", e, d);
  b.put_be32(NFTA_IMMEDIATE_DREG, NFT_REG32_00);
  uint16_t port = htons(r.redirect_port);
  data_value(b, NFTA_IMMEDIATE_DATA, &port, sizeof port);
  expr_end(b, e, d);
  expr_begin(b, "redir", e, d);
  b.put_be32(NFTA_REDIR_REG_PROTO_MIN, NFT_REG32_00);
  b.put_be32(NFTA_REDIR_REG_PROTO_MAX, NFT_REG32_00);
  b.put_be32(NFTA_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
  expr_end(b, e, d);
}

void emit_match(NetlinkBuilder& b, const RuleMatch& m, int family) {
  switch (m.kind) {
    case RuleMatch::kIface: {
      meta(b, m.out ? NFT_META_OIFNAME : NFT_META_IIFNAME);
      // With the terminating NUL: "a0" must not match "a01".
      cmp(b, m.negate, m.text.c_str(), m.text.size() + 1);
      break;
    }
    case RuleMatch::kAddr: {
      uint32_t len = family == 6 ? 16 : 4;
      uint32_t offset = family == 6 ? (m.out ? 24 : 8) : (m.out ? 16 : 12);
      payload(b, NFT_PAYLOAD_NETWORK_HEADER, offset, len);
      bool full =
          std::all_of(m.mask.begin(), m.mask.end(), [](unsigned char c) { return c == 0xFF; });
      if (!full) mask(b, m.mask);
      cmp(b, m.negate, m.addr.data(), m.addr.size());
      break;
    }
    case RuleMatch::kProto:
      meta(b, NFT_META_L4PROTO);
      cmp(b, m.negate, &m.proto, 1);
      break;
    case RuleMatch::kMark:
      meta(b, NFT_META_MARK);
      cmp(b, m.negate, &m.mark, sizeof m.mark);  // the register holds the mark in host order
      break;
  }
}

// The rule's tag as nftables' own user data (a comment TLV), so `nft list ruleset` shows
// `comment "fl-1a2b3c4d-p4o"` on each rule.
std::string comment_udata(const std::string& tag) {
  std::string u;
  u.push_back(0);  // NFTNL_UDATA_RULE_COMMENT
  u.push_back(static_cast<char>(tag.size() + 1));
  u += tag;
  u.push_back('\0');
  return u;
}

std::string tag_of(const std::string& udata) {
  if (udata.size() < 3 || udata[0] != 0) return "";
  size_t len = static_cast<unsigned char>(udata[1]);
  if (len < 1 || 2 + len > udata.size()) return "";
  return std::string(udata.data() + 2, strnlen(udata.data() + 2, len));
}

Status emit_rules(NetlinkBuilder& b, const ChainSpec& spec, const std::string& chain) {
  std::vector<std::string> hook_args = spec.hook_match;
  for (const auto& args : spec.rules) {
    std::vector<std::string> all = hook_args;
    all.insert(all.end(), args.begin(), args.end());
    auto rule = parse_iptables_rule(all, spec.family, "nf_tables");
    if (!rule) return rule.error();
    std::vector<std::optional<uint16_t>> ports;
    for (uint16_t p : rule->ports) ports.emplace_back(p);
    if (ports.empty()) ports.emplace_back(std::nullopt);
    for (const auto& port : ports) {
      b.begin(nft_type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
              nfproto(spec.family), 0);
      b.put_string(NFTA_RULE_TABLE, kTable);
      b.put_string(NFTA_RULE_CHAIN, chain);
      size_t list = b.begin_nested(NFTA_RULE_EXPRESSIONS);
      for (const auto& m : rule->matches) emit_match(b, m, spec.family);
      if (port) {
        payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, rule->port_out ? 2 : 0, 2);
        uint16_t be = htons(*port);
        cmp(b, false, &be, sizeof be);
      }
      if (rule->queue)
        nfqueue(b, *rule);
      else if (rule->redirect_port != 0)
        redirect(b, *rule);
      else
        drop(b);
      b.end_nested(list);
      std::string udata = comment_udata(spec.chain);
      b.put(NFTA_RULE_USERDATA, udata.data(), udata.size());
      b.end();
    }
  }
  return Ok{};
}

Result<uint32_t> hook_number(const std::string& hook) {
  if (hook == "PREROUTING") return kPreRouting;
  if (hook == "INPUT") return kLocalIn;
  if (hook == "OUTPUT") return kLocalOut;
  if (hook == "POSTROUTING") return kPostRouting;
  return make_error(ErrorCode::kInvalidArgument, "nf_tables: unknown hook " + hook);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- The socket ----

class NftSocket {
 public:
  NftSocket() = default;
  NftSocket(NftSocket&&) = default;
  NftSocket& operator=(NftSocket&&) = delete;
  // Closed later, on a thread of its own. After a commit that deleted anything, the kernel's
  // release of an nfnetlink socket waits for nf_tables' pending destroy work (an RCU grace
  // period) while holding the namespace's commit lock: close() took 11.5 ms here (strace),
  // all of a partition's revert time, though the rules were gone when the batch was
  // acknowledged 0.2 ms in. Closed at once on another thread, it still held up the next
  // fault's commit in that namespace (p99 20 ms); 100 ms later the destroy work is done and
  // the close costs nothing. The socket keeps its namespace referenced that long.
  ~NftSocket() {
    if (fd_.get() < 0) return;
    std::thread([fd = std::move(fd_)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      fd.reset();
    }).detach();
  }

  static Result<NftSocket> open(const std::string& netns) {
    auto fd = open_nfnetlink(netns);
    if (!fd) return fd.error();
    NftSocket s;
    s.fd_ = std::move(*fd);
    return s;
  }

  // Sends a batch (every message asked for an ack) and waits for all of them; the first
  // error the kernel reports, with the kernel's own words where it gave any.
  Status transact(const NetlinkBuilder& b, uint32_t first_seq, uint32_t last_seq) {
    if (::send(fd_.get(), b.data(), b.size(), 0) < 0)
      return make_error(ErrorCode::kInternal, std::string("send: ") + std::strerror(errno));
    std::set<uint32_t> waiting;
    for (uint32_t s = first_seq; s <= last_seq; ++s) waiting.insert(s);
    std::optional<Error> failed;
    unsigned char buf[16384];
    while (!waiting.empty()) {
      pollfd p{fd_.get(), POLLIN, 0};
      // After an error the kernel aborts the batch and may not answer the rest.
      if (::poll(&p, 1, failed ? 50 : 5000) <= 0) break;
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n < 0)
        return make_error(ErrorCode::kInternal, std::string("recv: ") + std::strerror(errno));
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        waiting.erase(h->nlmsg_seq);
        if (e->error != 0 && !failed)
          failed =
              Error{e->error == -EEXIST ? ErrorCode::kFailedPrecondition : ErrorCode::kInternal,
                    std::string(std::strerror(-e->error))};
      }
    }
    if (failed) return *failed;
    if (!waiting.empty()) return make_error(ErrorCode::kInternal, "nf_tables did not answer");
    return Ok{};
  }

  // A dump request's answers: per message its family (4, 6, 0 for others) and attributes.
  struct Dumped {
    int family = 0;
    std::map<uint16_t, std::string> attrs;
  };
  Result<std::vector<Dumped>> dump(uint8_t msg, uint8_t family, const std::string& table) {
    NetlinkBuilder b;
    uint32_t seq = b.begin(nft_type(msg), NLM_F_DUMP, family, 0);
    if (!table.empty()) b.put_string(NFTA_RULE_TABLE, table);  // == NFTA_TABLE_NAME == 1
    b.end();
    if (::send(fd_.get(), b.data(), b.size(), 0) < 0)
      return make_error(ErrorCode::kInternal, std::string("send: ") + std::strerror(errno));
    std::vector<Dumped> out;
    std::vector<unsigned char> buf(65536);
    while (true) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0)
        return make_error(ErrorCode::kInternal, "nf_tables did not answer");
      ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
      if (n < 0)
        return make_error(ErrorCode::kInternal, std::string("recv: ") + std::strerror(errno));
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq) continue;
        if (h->nlmsg_type == NLMSG_DONE) return out;
        if (h->nlmsg_type == NLMSG_ERROR) {
          auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
          if (e->error == 0) continue;
          if (e->error == -ENOENT) return out;  // the table does not exist: nothing in it
          return make_error(ErrorCode::kInternal, std::string(std::strerror(-e->error)));
        }
        auto* g = static_cast<nfgenmsg*>(NLMSG_DATA(h));
        Dumped d;
        d.family = g->nfgen_family == kProtoIpv6 ? 6 : g->nfgen_family == kProtoIpv4 ? 4 : 0;
        size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
        while (off + NLA_HDRLEN <= h->nlmsg_len) {
          auto* a =
              reinterpret_cast<const nlattr*>(reinterpret_cast<const unsigned char*>(h) + off);
          if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len) break;
          d.attrs[a->nla_type & NLA_TYPE_MASK] =
              std::string(reinterpret_cast<const char*>(a) + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
          off += NLA_ALIGN(a->nla_len);
        }
        out.push_back(std::move(d));
      }
    }
  }

 private:
  UniqueFd fd_;
};

void batch_begin(NetlinkBuilder& b) {
  b.begin(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  b.end();
}

void batch_end(NetlinkBuilder& b) {
  b.begin(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  b.end();
}

bool netns_gone(const std::string& netns) {
  return !netns.empty() && netns_inode(netns) == 0;
}

struct TaggedRule {
  int family;
  std::string chain;
  std::string handle;  // be64, as the kernel gave it
  std::string tag;
};

Result<std::vector<TaggedRule>> tagged_rules(NftSocket& sock, int family) {
  auto dumped = sock.dump(NFT_MSG_GETRULE, nfproto(family), kTable);
  if (!dumped) return dumped.error();
  std::vector<TaggedRule> out;
  for (auto& d : *dumped)
    out.push_back({family, d.attrs[NFTA_RULE_CHAIN].c_str(), d.attrs[NFTA_RULE_HANDLE],
                   tag_of(d.attrs[NFTA_RULE_USERDATA])});
  return out;
}

// Deletes, in one transaction, every rule whose tag is one of `tags` (per family); how many
// rules each family's table keeps.
// Adds to batch `b` the deletion of every rule whose tag is one of `tags`; how many rules each
// family's table keeps.
Result<std::map<int, size_t>> add_deletions(NftSocket& sock, NetlinkBuilder& b,
                                            const std::vector<NftTable>& tags) {
  std::map<int, size_t> left;
  for (int family : {4, 6}) {
    std::set<std::string> wanted;
    for (const auto& t : tags)
      if (t.family == family) wanted.insert(t.name);
    if (wanted.empty()) continue;
    auto rules = tagged_rules(sock, family);
    if (!rules) return rules.error();
    size_t kept = 0;
    for (const auto& r : *rules) {
      if (!wanted.count(r.tag)) {
        ++kept;
        continue;
      }
      b.begin(nft_type(NFT_MSG_DELRULE), NLM_F_ACK, nfproto(family), 0);
      b.put_string(NFTA_RULE_TABLE, kTable);
      b.put_string(NFTA_RULE_CHAIN, r.chain);
      b.put(NFTA_RULE_HANDLE, r.handle.data(), r.handle.size());
      b.end();
    }
    left[family] = kept;
  }
  return left;
}

Result<std::map<int, size_t>> delete_tagged(NftSocket& sock, const std::vector<NftTable>& tags) {
  NetlinkBuilder b;
  batch_begin(b);
  uint32_t first = b.last_seq() + 1;
  auto left = add_deletions(sock, b, tags);
  if (!left) return left.error();
  uint32_t last = b.last_seq();
  if (last >= first) {
    batch_end(b);
    if (Status s = sock.transact(b, first, last); !s) return s.error();
  }
  return left;
}

// The empty table goes a little later, off the revert's path (removing hooked chains waits on
// the kernel for ~10 ms). Only if it is still empty then: NLM_F_NONREC makes the kernel refuse
// to delete a chain that has rules, so a fault applied meanwhile keeps its table.
void remove_table_later(const std::string& netns, int family) {
  std::thread([netns, family] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto sock = NftSocket::open(netns);
    if (!sock) return;
    auto chains = sock->dump(NFT_MSG_GETCHAIN, nfproto(family), kTable);
    if (!chains) return;
    NetlinkBuilder b;
    batch_begin(b);
    uint32_t first = b.last_seq() + 1;
    for (auto& c : *chains) {
      if (c.attrs[NFTA_CHAIN_TABLE].c_str() != std::string(kTable)) continue;
      b.begin(nft_type(NFT_MSG_DELCHAIN), NLM_F_ACK | NLM_F_NONREC, nfproto(family), 0);
      b.put_string(NFTA_CHAIN_TABLE, kTable);
      b.put_string(NFTA_CHAIN_NAME, c.attrs[NFTA_CHAIN_NAME].c_str());
      b.end();
    }
    b.begin(nft_type(NFT_MSG_DELTABLE), NLM_F_ACK | NLM_F_NONREC, nfproto(family), 0);
    b.put_string(NFTA_TABLE_NAME, kTable);
    b.end();
    uint32_t last = b.last_seq();
    batch_end(b);
    // A refusal means a fault moved in meanwhile: the table is in use, nothing to do. No
    // logging here: this thread may outlive the logger it would use (seen under TSan).
    (void)sock->transact(b, first, last);
  }).detach();
}

// `tags`: rules to delete in the same transaction (a replacement, never a moment without).
Status install_once(NftSocket& sock, const std::vector<ChainSpec>& specs,
                    const std::vector<NftTable>& tags) {
  // What exists already is not sent again: re-declaring a hooked chain is an update the
  // kernel commits slowly.
  std::set<std::pair<int, std::string>> made;
  for (int family : {4, 6}) {
    auto chains = sock.dump(NFT_MSG_GETCHAIN, nfproto(family), kTable);
    if (!chains) return chains.error();
    for (auto& c : *chains) {
      if (c.attrs[NFTA_CHAIN_TABLE].c_str() != std::string(kTable)) continue;
      made.insert({family, ""});
      made.insert({family, c.attrs[NFTA_CHAIN_NAME].c_str()});
    }
  }
  NetlinkBuilder b;
  batch_begin(b);
  uint32_t first = b.last_seq() + 1;
  if (auto deleted = add_deletions(sock, b, tags); !deleted) return deleted.error();
  for (const auto& spec : specs) {
    auto hook = hook_number(spec.hook);
    if (!hook) return hook.error();
    // One base chain per hook and priority, shared by every fault in the namespace and kept
    // between faults: creating and deleting hooked chains is what makes nf_tables slow.
    const std::string chain = lower(spec.hook) + "-" + spec.table;
    if (made.insert({spec.family, ""}).second) {
      b.begin(nft_type(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK, nfproto(spec.family), 0);
      b.put_string(NFTA_TABLE_NAME, kTable);
      b.end();
    }
    if (made.insert({spec.family, chain}).second) {
      b.begin(nft_type(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, nfproto(spec.family), 0);
      b.put_string(NFTA_CHAIN_TABLE, kTable);
      b.put_string(NFTA_CHAIN_NAME, chain);
      size_t h = b.begin_nested(NFTA_CHAIN_HOOK);
      b.put_be32(NFTA_HOOK_HOOKNUM, *hook);
      // iptables' priorities: mangle, then nat (dstnat), then filter, as the same rules had
      // there.
      int priority = spec.table == "mangle" ? -150 : spec.table == "nat" ? -100 : 0;
      b.put_be32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(priority));
      b.end_nested(h);
      b.put_be32(NFTA_CHAIN_POLICY, kAccept);
      b.put_string(NFTA_CHAIN_TYPE, spec.table == "nat" ? "nat" : "filter");
      b.end();
    }
    if (Status st = emit_rules(b, spec, chain); !st) return st;
  }
  uint32_t last = b.last_seq();
  batch_end(b);
  return sock.transact(b, first, last);
}

}  // namespace

bool nft_netlink_available() {
  static const bool available = [] {
    auto sock = NftSocket::open("");
    return sock && static_cast<bool>(sock->dump(NFT_MSG_GETTABLE, AF_UNSPEC, ""));
  }();
  return available;
}

Status nft_install(const std::vector<ChainSpec>& specs) {
  if (specs.empty()) return Ok{};
  auto sock = NftSocket::open(specs[0].netns);
  if (!sock) return sock.error();
  // Rules with these tags left by a crash (tags are stable per fault) are replaced.
  std::vector<NftTable> tags;
  for (const auto& c : specs) tags.push_back({c.family, c.chain});
  return install_once(*sock, specs, tags);
}

Status nft_remove(const std::string& netns, const std::vector<NftTable>& tags) {
  if (tags.empty() || netns_gone(netns)) return Ok{};
  auto sock = NftSocket::open(netns);
  if (!sock) return netns_gone(netns) ? Status(Ok{}) : Status(sock.error());
  auto left = delete_tagged(*sock, tags);
  if (!left) return left.error();
  for (const auto& [family, kept] : *left)
    if (kept == 0) remove_table_later(netns, family);
  return Ok{};
}

bool nft_rules_exist(const std::string& netns, int family, const std::string& tag) {
  if (netns_gone(netns)) return false;
  auto sock = NftSocket::open(netns);
  if (!sock) return false;
  auto rules = tagged_rules(*sock, family);
  if (!rules) return false;
  for (const auto& r : *rules)
    if (r.tag == tag) return true;
  return false;
}

}  // namespace faultline::injector
