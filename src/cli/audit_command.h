// `faultline audit verify|show [FILE]`: checks and prints the hash-chained audit trail.
#pragma once

#include <cstddef>
#include <string>

namespace faultline::cli {

// 0 intact, 1 tampered (naming the entry), 3 missing or unreadable.
int verify_audit(const std::string& path);
// tail == 0: every entry.
int show_audit(const std::string& path, size_t tail);

}  // namespace faultline::cli
