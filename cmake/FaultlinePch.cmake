# Precompiled headers for builds where compile time matters more than warnings: the sanitizer
# trees of scripts/sanitizers.sh. Off by default because GCC 12 reports false positives
# (-Warray-bounds, -Wstringop-overflow inside libstdc++'s std::string, GCC bug 105651) in some
# translation units when they are compiled against a PCH, and the main build is -Werror.
option(FAULTLINE_PCH "Precompile the heavy third-party headers (sanitizer builds)" OFF)

# The headers that dominate our compile times: gRPC and protobuf, spdlog/fmt, nlohmann-json,
# yaml-cpp, and the standard library parts nearly every file uses.
set(FAULTLINE_PCH_HEADERS
  <chrono> <functional> <map> <memory> <mutex> <optional> <string> <string_view> <vector>
  <grpcpp/grpcpp.h> <google/protobuf/message.h> <spdlog/spdlog.h> <nlohmann/json.hpp>
  <yaml-cpp/yaml.h>)

function(faultline_precompile target)
  if(FAULTLINE_PCH)
    target_precompile_headers(${target} PRIVATE ${FAULTLINE_PCH_HEADERS})
  endif()
endfunction()
