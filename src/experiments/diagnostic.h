// One problem found in an experiment file, printed as
//   file:line:column: field.path: what is wrong (what is expected)
#pragma once

#include <string>
#include <vector>

namespace faultline::experiments {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  SourceLocation where;
  std::string field;    // dotted path, e.g. "faults[0].params.signal"; empty for syntax errors
  std::string message;  // what is wrong, with what is expected in parentheses

  std::string format() const;
};

using Diagnostics = std::vector<Diagnostic>;

// Every diagnostic formatted, one per line (no trailing newline).
std::string format_diagnostics(const Diagnostics& diagnostics);

}  // namespace faultline::experiments
