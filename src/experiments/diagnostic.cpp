#include "experiments/diagnostic.h"

namespace faultline::experiments {

std::string Diagnostic::format() const {
  std::string out = where.file;
  if (where.line > 0) out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

}  // namespace faultline::experiments
