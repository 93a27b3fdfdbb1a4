#include "controller/store/file_run_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "common/ids.h"
#include "common/state_dir.h"

namespace faultline::controller {
namespace fs = std::filesystem;

std::string run_to_json(const v1::Run& run) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  // A v1.Run always encodes; the status only reports unknown Any types, which it has none of.
  (void)google::protobuf::util::MessageToJsonString(run, &json, opts);
  return json;
}

std::string default_run_store_dir() {
  return state_dir() + "/journals";
}

FileRunStore::FileRunStore(std::string dir) : dir_(std::move(dir)) {}

Status FileRunStore::save(const v1::Run& run) {
  if (!is_safe_id(run.run_id()))
    return make_error(ErrorCode::kInvalidArgument, "bad run id \"" + run.run_id() + "\"");
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + dir_ + ": " + ec.message());
  std::string json = run_to_json(run);
  std::string path = dir_ + "/" + run.run_id() + ".json";
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write " + tmp);
  bool ok = ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kInternal, "cannot write " + path);
  }
  return Ok{};
}

std::optional<v1::Run> FileRunStore::load(const std::string& run_id) const {
  if (!is_safe_id(run_id)) return std::nullopt;
  std::ifstream in(dir_ + "/" + run_id + ".json");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  v1::Run run;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;  // written by a newer faultline
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &run, opts).ok())
    return std::nullopt;
  return run;
}

std::vector<v1::Run> FileRunStore::list(size_t limit) const {
  std::vector<v1::Run> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != ".json") continue;
    if (auto run = load(entry.path().stem().string())) {
      run->clear_events();
      out.push_back(std::move(*run));
    }
  }
  std::sort(out.begin(), out.end(), started_later);
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace faultline::controller
