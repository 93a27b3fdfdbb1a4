#pragma once

#include <string>
#include <string_view>

namespace faultline {

// Lower-case hex SHA-256 (OpenSSL).
std::string sha256_hex(std::string_view data);

// 32 random bytes from the kernel, hex: for secrets (API tokens).
std::string random_secret_hex();

}  // namespace faultline
