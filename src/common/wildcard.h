// Shell-style '*' and '?' matching for patterns applied to untrusted text (HTTP paths and
// header values, DNS names). Our own, not fnmatch(3): glibc's backtracks in time exponential
// in the number of stars.
#pragma once

#include <string_view>

namespace faultline {

struct WildcardOptions {
  bool question_mark = true;  // '?' matches one character (else it is literal)
  bool fold_case = false;     // the text's ASCII capitals read as lower case (`pattern` is)
};

// '*' matches any run of characters. The walk backs up only to the last star seen, which is
// enough for these two wildcards: O(|pattern| * |text|) at worst, never exponential.
bool wildcard_match(std::string_view pattern, std::string_view text, WildcardOptions options = {});

}  // namespace faultline
