// Builds nfnetlink messages by hand, several back to back in one buffer (one send for a
// whole batch): nlmsghdr, nfgenmsg, then attributes, nested ones included. The nfqueue
// engine's verdicts and the nf_tables rule programming both use it; neither needs a library
// object per message on its hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace faultline::injector {

// A bound NETLINK_NETFILTER socket in `netns` ("" = ours): a socket stays in the namespace
// it was made in, whichever thread uses it later. kNotFound when the namespace is not there.
Result<UniqueFd> open_nfnetlink(const std::string& netns);

class NetlinkBuilder {
 public:
  // Starts a message: type is the full nlmsg_type ((subsystem << 8) | command); NLM_F_REQUEST
  // is always set. Returns the sequence number given to it.
  uint32_t begin(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id);
  // Fixes up the length of the message begun last.
  void end();

  void put(uint16_t type, const void* data, size_t len);
  void put_string(uint16_t type, const std::string& s);  // with its NUL, as the kernel wants
  void put_be32(uint16_t type, uint32_t v);
  void put_be16(uint16_t type, uint16_t v);
  // A nested attribute: its length is fixed by end_nested(start).
  size_t begin_nested(uint16_t type);
  void end_nested(size_t start);

  const unsigned char* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }
  bool empty() const { return buf_.empty(); }
  void clear() { buf_.clear(); }
  void reserve(size_t n) { buf_.reserve(n); }
  uint32_t last_seq() const { return seq_; }

 private:
  std::vector<unsigned char> buf_;
  size_t message_start_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace faultline::injector
