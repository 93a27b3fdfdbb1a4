#include "experiments/diagnostic.h"

namespace faultline::experiments {

std::string Diagnostic::format() const {
  std::string out = where.file;
  if (where.line > 0) out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

std::string format_diagnostics(const Diagnostics& diagnostics) {
  std::string lines;
  for (const auto& d : diagnostics) lines += (lines.empty() ? "" : "\n") + d.format();
  return lines;
}

}  // namespace faultline::experiments
