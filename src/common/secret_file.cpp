#include "common/secret_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace faultline {

Status check_secret_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot read " + what + " " + path + ": " + std::strerror(errno));
  bool others = st.st_mode & S_IRWXO;
  bool group = (st.st_mode & S_IRWXG) && st.st_gid != ::getegid();
  if (!others && !group) return Ok{};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return make_error(ErrorCode::kPermissionDenied,
                    what + " " + path + " can be read by " +
                        (others ? "other users" : "its group") + " (mode " + mode +
                        "); a token others can read proves nothing. Run: chmod 600 " + path);
}

}  // namespace faultline
