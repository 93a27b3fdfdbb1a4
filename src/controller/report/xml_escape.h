#pragma once

#include <string>

namespace faultline::controller {

// Text and attribute values for XML and HTML. Control characters XML 1.0 cannot carry (probe
// output may hold anything) become U+FFFD.
inline std::string xml_escape(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (c < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')
          out += "\xEF\xBF\xBD";
        else
          out += ch;
    }
  }
  return out;
}

}  // namespace faultline::controller
