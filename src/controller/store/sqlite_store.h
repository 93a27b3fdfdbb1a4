// The controller's store on one machine: runs, their events, injector registrations, API
// tokens, schedules and the halt switch in one SQLite database in WAL mode (readers never block the
// writer; a crash loses at most the transaction in flight). Every write is its own transaction.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>

#include "controller/auth/token_store.h"
#include "controller/store/run_store.h"

namespace faultline::controller {

class SqliteStore final : public RunStore,
                          public InjectorStore,
                          public TokenStore,
                          public ScheduleStore,
                          public HaltStore {
 public:
  // Creates the file, its directory and the schema if needed.
  static Result<std::shared_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status begin(const v1::Run& run, const std::string& submitted_by) override;
  Status append_events(const std::vector<v1::RunEvent>& events) override;
  Status save(const v1::Run& run) override;
  std::optional<v1::Run> load(const std::string& run_id) const override;
  std::optional<v1::Run> load_page(const std::string& run_id, uint64_t after_seq,
                                   size_t max_events) const override;
  std::vector<v1::Run> list(size_t limit, const RunCursor* after = nullptr) const override;
  std::vector<v1::Run> unfinished() const override;
  Result<size_t> prune(const RetentionPolicy& policy, int64_t now_unix_ms) override;

  Status record_injector(const InjectorRecord& record) override;
  std::vector<InjectorRecord> injectors() const override;

  Status save_token(const TokenRecord& token) override;
  Status delete_token(const std::string& name) override;
  std::vector<TokenRecord> load_tokens() const override;

  Status add_schedule(const ScheduleRecord& schedule) override;
  Status update_schedule(const ScheduleRecord& schedule) override;
  Status remove_schedule(const std::string& name) override;
  std::vector<ScheduleRecord> schedules() const override;

  Status save_halt(const HaltRecord& halt) override;
  std::optional<HaltRecord> load_halt() const override;

  const std::string& path() const { return path_; }

 private:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const std::string& sql);
  Status add_missing_columns();
  std::vector<v1::RunEvent> events_of(const std::string& run_id) const;

  sqlite3* db_;
  std::string path_;
  mutable std::mutex mu_;  // one connection, used from many threads
};

// <state dir>/faultline.db
std::string default_store_path();

// The protobuf JSON mapping of a run (field names as in the .proto), what `faultline journal`
// prints.
std::string run_to_json(const v1::Run& run);

}  // namespace faultline::controller
