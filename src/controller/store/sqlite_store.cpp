#include "controller/store/sqlite_store.h"

#include <filesystem>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/state_dir.h"

namespace faultline::controller {
namespace {

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& i64(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool row() { return s_ && sqlite3_step(s_) == SQLITE_ROW; }
  // Runs a statement that returns no rows.
  Status run(const char* what) {
    if (!s_ || sqlite3_step(s_) != SQLITE_DONE)
      return make_error(ErrorCode::kInternal,
                        std::string("store: ") + what + ": " + sqlite3_errmsg(db_));
    return Ok{};
  }
  std::string col_text(int i) const {
    auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, i)) : "";
  }
  std::string col_blob(int i) const {
    auto* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(s_, i)) : "";
  }
  int64_t col_i64(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS runs(
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL, state INTEGER NOT NULL,
  started_unix_ms INTEGER NOT NULL, ended_unix_ms INTEGER, finished INTEGER NOT NULL DEFAULT 0,
  submitted_by TEXT, summary BLOB);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_unix_ms);
CREATE TABLE IF NOT EXISTS events(
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, event BLOB NOT NULL, PRIMARY KEY(run_id, seq));
CREATE TABLE IF NOT EXISTS injectors(
  node TEXT PRIMARY KEY, labels TEXT, capabilities TEXT, version TEXT, peer TEXT, state TEXT,
  first_seen_unix_ms INTEGER, last_change_unix_ms INTEGER);
CREATE TABLE IF NOT EXISTS tokens(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, digest TEXT NOT NULL, source TEXT,
  created_unix_ms INTEGER);
CREATE TABLE IF NOT EXISTS schedules(
  name TEXT PRIMARY KEY, cron TEXT NOT NULL, time_zone TEXT NOT NULL, overlap TEXT NOT NULL,
  yaml TEXT NOT NULL, source_name TEXT, vars TEXT, experiment TEXT,
  paused INTEGER NOT NULL DEFAULT 0, created_by TEXT, created_unix_ms INTEGER,
  next_fire_unix_ms INTEGER, last_fire_unix_ms INTEGER, last_run_id TEXT, last_outcome TEXT,
  missed_fires INTEGER, missed_first_unix_ms INTEGER, missed_last_unix_ms INTEGER);
CREATE TABLE IF NOT EXISTS halt(
  id INTEGER PRIMARY KEY CHECK(id = 1), halted INTEGER NOT NULL, halted_by TEXT,
  halted_unix_ms INTEGER, reason TEXT, lifted_by TEXT, lifted_unix_ms INTEGER);
)sql";

}  // namespace

std::string default_store_path() {
  return state_dir() + "/faultline.db";
}

Result<std::shared_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(ErrorCode::kUnavailable, "cannot open store " + path + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);  // a CLI reading while the controller writes
  std::shared_ptr<SqliteStore> store(new SqliteStore(db, path));
  if (Status s = store->exec(kSchema); !s)
    return make_error(ErrorCode::kUnavailable, "store " + path + ": " + s.error().message);
  if (Status s = store->add_missing_columns(); !s)
    return make_error(ErrorCode::kUnavailable, "store " + path + ": " + s.error().message);
  return store;
}

Status SqliteStore::add_missing_columns() {
  // Columns added after a release: a store written by an older controller gains them empty.
  struct Column {
    const char* table;
    const char* name;
    const char* type;
  };
  static constexpr Column kAdded[] = {{"schedules", "environment", "TEXT"}};
  for (const auto& c : kAdded) {
    bool present = false;
    {
      Stmt q(db_, (std::string("SELECT 1 FROM pragma_table_info('") + c.table + "') WHERE name='" +
                   c.name + "'")
                      .c_str());
      present = q.row();
    }
    if (present) continue;
    if (Status s =
            exec(std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.name + " " + c.type);
        !s)
      return s;
  }
  return Ok{};
}

SqliteStore::~SqliteStore() {
  sqlite3_close(db_);
}

Status SqliteStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(ErrorCode::kInternal, why);
  }
  return Ok{};
}

Status SqliteStore::begin(const v1::Run& run, const std::string& submitted_by) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT OR IGNORE INTO runs(id, experiment, state, started_unix_ms, submitted_by) "
         "VALUES(?,?,?,?,?)");
  int64_t started = run.events_size() ? run.events(0).unix_ms() : 0;
  if (!started) started = run.summary().started_unix_ms();
  return s.text(1, run.run_id())
      .text(2, run.experiment_name())
      .i64(3, run.state())
      .i64(4, started)
      .text(5, submitted_by)
      .run("begin run");
}

Status SqliteStore::append_events(const std::vector<v1::RunEvent>& events) {
  if (events.empty()) return Ok{};
  std::lock_guard lock(mu_);
  // One transaction, so one sync of the WAL, however many nodes the events are from.
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  auto rollback = [&](Status s) {
    (void)exec("ROLLBACK");
    return s;
  };
  std::map<std::string, int64_t> last_state;  // by run: what its row says after the batch
  for (const auto& event : events) {
    Stmt s(db_, "INSERT OR REPLACE INTO events(run_id, seq, event) VALUES(?,?,?)");
    if (Status r = s.text(1, event.run_id())
                       .i64(2, static_cast<int64_t>(event.seq()))
                       .blob(3, event.SerializeAsString())
                       .run("append event");
        !r)
      return rollback(r);
    last_state[event.run_id()] = event.state();
  }
  for (const auto& [run_id, state] : last_state) {
    Stmt u(db_, "UPDATE runs SET state=? WHERE id=?");
    if (Status r = u.i64(1, state).text(2, run_id).run("run state"); !r) return rollback(r);
  }
  if (Status s = exec("COMMIT"); !s) return rollback(s);
  return Ok{};
}

Status SqliteStore::save(const v1::Run& run) {
  std::lock_guard lock(mu_);
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  auto rollback = [&](Status s) {
    (void)exec("ROLLBACK");
    return s;
  };
  {
    Stmt s(db_,
           "INSERT INTO runs(id, experiment, state, started_unix_ms, ended_unix_ms, finished, "
           "summary) VALUES(?,?,?,?,?,1,?) ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
           "started_unix_ms=excluded.started_unix_ms, ended_unix_ms=excluded.ended_unix_ms, "
           "finished=1, summary=excluded.summary");
    Status r = s.text(1, run.run_id())
                   .text(2, run.experiment_name())
                   .i64(3, run.state())
                   .i64(4, run.summary().started_unix_ms())
                   .i64(5, run.summary().ended_unix_ms())
                   .blob(6, run.summary().SerializeAsString())
                   .run("save run");
    if (!r) return rollback(r);
  }
  for (const auto& ev : run.events()) {
    Stmt s(db_, "INSERT OR REPLACE INTO events(run_id, seq, event) VALUES(?,?,?)");
    Status r = s.text(1, run.run_id())
                   .i64(2, static_cast<int64_t>(ev.seq()))
                   .blob(3, ev.SerializeAsString())
                   .run("save event");
    if (!r) return rollback(r);
  }
  return exec("COMMIT");
}

std::vector<v1::RunEvent> SqliteStore::events_of(const std::string& run_id) const {
  std::vector<v1::RunEvent> out;
  Stmt s(db_, "SELECT event FROM events WHERE run_id=? ORDER BY seq");
  s.text(1, run_id);
  while (s.row()) {
    v1::RunEvent ev;
    if (ev.ParseFromString(s.col_blob(0))) out.push_back(std::move(ev));
  }
  return out;
}

namespace {

v1::Run run_from_row(const Stmt& s) {
  v1::Run run;
  run.set_run_id(s.col_text(0));
  run.set_experiment_name(s.col_text(1));
  run.set_state(static_cast<v1::RunState>(s.col_i64(2)));
  std::string summary = s.col_blob(4);
  if (!summary.empty())
    (void)run.mutable_summary()->ParseFromString(summary);
  else {
    run.mutable_summary()->set_experiment_name(run.experiment_name());
    run.mutable_summary()->set_started_unix_ms(s.col_i64(3));
  }
  return run;
}

}  // namespace

std::optional<v1::Run> SqliteStore::load(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT id, experiment, state, started_unix_ms, summary FROM runs WHERE id=?");
  s.text(1, run_id);
  if (!s.row()) return std::nullopt;
  v1::Run run = run_from_row(s);
  for (auto& ev : events_of(run_id)) *run.add_events() = std::move(ev);
  return run;
}

std::optional<v1::Run> SqliteStore::load_page(const std::string& run_id, uint64_t after_seq,
                                              size_t max_events) const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT id, experiment, state, started_unix_ms, summary FROM runs WHERE id=?");
  s.text(1, run_id);
  if (!s.row()) return std::nullopt;
  v1::Run run = run_from_row(s);
  // Only the first page carries the summary (it holds the probe series, the largest part).
  if (after_seq > 0) run.clear_summary();
  // One more than asked: whether the journal goes on, without counting it.
  Stmt e(db_, "SELECT event FROM events WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?");
  e.text(1, run_id)
      .i64(2, static_cast<int64_t>(after_seq))
      .i64(3, static_cast<int64_t>(max_events) + 1);
  while (e.row()) {
    if (static_cast<size_t>(run.events_size()) == max_events) {
      run.set_more_events(true);
      break;
    }
    if (!run.add_events()->ParseFromString(e.col_blob(0))) run.mutable_events()->RemoveLast();
  }
  return run;
}

std::vector<v1::Run> SqliteStore::list(size_t limit, const RunCursor* after) const {
  std::lock_guard lock(mu_);
  Stmt s(db_, after ? "SELECT id, experiment, state, started_unix_ms, summary FROM runs "
                      "WHERE started_unix_ms < ? OR (started_unix_ms = ? AND id < ?) "
                      "ORDER BY started_unix_ms DESC, id DESC LIMIT ?"
                    : "SELECT id, experiment, state, started_unix_ms, summary FROM runs "
                      "ORDER BY started_unix_ms DESC, id DESC LIMIT ?");
  if (after)
    s.i64(1, after->started_unix_ms)
        .i64(2, after->started_unix_ms)
        .text(3, after->run_id)
        .i64(4, static_cast<int64_t>(limit));
  else
    s.i64(1, static_cast<int64_t>(limit));
  std::vector<v1::Run> out;
  while (s.row()) out.push_back(run_from_row(s));
  return out;
}

std::vector<v1::Run> SqliteStore::unfinished() const {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT id, experiment, state, started_unix_ms, summary FROM runs WHERE finished=0 "
         "ORDER BY started_unix_ms");
  std::vector<v1::Run> out;
  while (s.row()) out.push_back(run_from_row(s));
  for (auto& run : out)
    for (auto& ev : events_of(run.run_id())) *run.add_events() = std::move(ev);
  return out;
}

Status SqliteStore::record_injector(const InjectorRecord& r) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO injectors(node, labels, capabilities, version, peer, state, "
         "first_seen_unix_ms, last_change_unix_ms) VALUES(?,?,?,?,?,?,?,?) "
         "ON CONFLICT(node) DO UPDATE SET labels=coalesce(nullif(excluded.labels,''),labels), "
         "capabilities=coalesce(nullif(excluded.capabilities,''),capabilities), "
         "version=coalesce(nullif(excluded.version,''),version), peer=excluded.peer, "
         "state=excluded.state, last_change_unix_ms=excluded.last_change_unix_ms");
  return s.text(1, r.node)
      .text(2, r.labels)
      .text(3, r.capabilities)
      .text(4, r.version)
      .text(5, r.peer)
      .text(6, r.state)
      .i64(7, r.unix_ms)
      .i64(8, r.unix_ms)
      .run("record injector");
}

std::vector<InjectorRecord> SqliteStore::injectors() const {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT node, labels, capabilities, version, peer, state, last_change_unix_ms "
         "FROM injectors ORDER BY node");
  std::vector<InjectorRecord> out;
  while (s.row())
    out.push_back({s.col_text(0), s.col_text(1), s.col_text(2), s.col_text(3), s.col_text(4),
                   s.col_text(5), s.col_i64(6)});
  return out;
}

Status SqliteStore::save_token(const TokenRecord& t) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO tokens(name, role, digest, source, created_unix_ms) VALUES(?,?,?,?,?)");
  return s.text(1, t.name)
      .text(2, role_name(t.role))
      .text(3, t.digest)
      .text(4, t.source)
      .i64(5, t.created_unix_ms)
      .run("save token");
}

Status SqliteStore::delete_token(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM tokens WHERE name=?");
  return s.text(1, name).run("delete token");
}

std::vector<TokenRecord> SqliteStore::load_tokens() const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT name, role, digest, source, created_unix_ms FROM tokens ORDER BY name");
  std::vector<TokenRecord> out;
  while (s.row()) {
    auto role = parse_role(s.col_text(1));
    if (!role) continue;
    out.push_back({s.col_text(0), *role, s.col_text(2), s.col_text(3), s.col_i64(4)});
  }
  return out;
}

Result<size_t> SqliteStore::prune(const RetentionPolicy& policy, int64_t now_unix_ms) {
  if (!policy.active()) return size_t{0};
  std::lock_guard lock(mu_);
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s.error();
  auto rollback = [&](const Status& s) {
    (void)exec("ROLLBACK");
    return s.error();
  };
  // Only finished runs are candidates: a run still going (or one its controller died in,
  // until recovery marks it) keeps its journal whatever the policy says.
  if (Status s = exec("CREATE TEMP TABLE IF NOT EXISTS pruned(id TEXT PRIMARY KEY)"); !s)
    return rollback(s);
  if (Status s = exec("DELETE FROM pruned"); !s) return rollback(s);
  if (policy.keep_runs > 0) {
    Stmt s(db_,
           "INSERT OR IGNORE INTO pruned(id) SELECT id FROM runs WHERE finished=1 AND id NOT IN "
           "(SELECT id FROM runs WHERE finished=1 ORDER BY started_unix_ms DESC, id DESC "
           "LIMIT ?)");
    if (Status r = s.i64(1, static_cast<int64_t>(policy.keep_runs)).run("prune by count"); !r)
      return rollback(r);
  }
  if (policy.keep_for_ms > 0) {
    Stmt s(db_,
           "INSERT OR IGNORE INTO pruned(id) SELECT id FROM runs WHERE finished=1 AND "
           "coalesce(ended_unix_ms, started_unix_ms) < ?");
    if (Status r = s.i64(1, now_unix_ms - policy.keep_for_ms).run("prune by age"); !r)
      return rollback(r);
  }
  if (Status s = exec("DELETE FROM events WHERE run_id IN (SELECT id FROM pruned)"); !s)
    return rollback(s);
  if (Status s = exec("DELETE FROM runs WHERE id IN (SELECT id FROM pruned)"); !s)
    return rollback(s);
  size_t deleted = static_cast<size_t>(sqlite3_changes(db_));
  if (Status s = exec("DELETE FROM pruned"); !s) return rollback(s);
  if (Status s = exec("COMMIT"); !s) return rollback(s);
  return deleted;
}

namespace {

std::string vars_to_json(const std::map<std::string, std::string>& vars) {
  return nlohmann::json(vars).dump();
}

std::map<std::string, std::string> vars_from_json(const std::string& text) {
  std::map<std::string, std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    for (auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// Columns in the order schedule statements bind and select them.
constexpr const char* kScheduleColumns =
    "name, cron, time_zone, overlap, yaml, source_name, vars, experiment, paused, created_by, "
    "created_unix_ms, next_fire_unix_ms, last_fire_unix_ms, last_run_id, last_outcome, "
    "missed_fires, missed_first_unix_ms, missed_last_unix_ms, environment";

void bind_schedule(Stmt& s, const ScheduleRecord& r) {
  s.text(1, r.name)
      .text(2, r.cron)
      .text(3, r.time_zone)
      .text(4, r.overlap)
      .text(5, r.yaml)
      .text(6, r.source_name)
      .text(7, vars_to_json(r.vars))
      .text(8, r.experiment_name)
      .i64(9, r.paused ? 1 : 0)
      .text(10, r.created_by)
      .i64(11, r.created_unix_ms)
      .i64(12, r.next_fire_unix_ms)
      .i64(13, r.last_fire_unix_ms)
      .text(14, r.last_run_id)
      .text(15, r.last_outcome)
      .i64(16, r.missed_fires)
      .i64(17, r.missed_first_unix_ms)
      .i64(18, r.missed_last_unix_ms)
      .text(19, vars_to_json(r.environment));
}

}  // namespace

Status SqliteStore::add_schedule(const ScheduleRecord& r) {
  std::lock_guard lock(mu_);
  {
    Stmt q(db_, "SELECT 1 FROM schedules WHERE name=?");
    if (q.text(1, r.name).row())
      return make_error(ErrorCode::kFailedPrecondition,
                        "a schedule named \"" + r.name + "\" exists already");
  }
  std::string sql = std::string("INSERT INTO schedules(") + kScheduleColumns +
                    ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt s(db_, sql.c_str());
  bind_schedule(s, r);
  return s.run("add schedule");
}

Status SqliteStore::update_schedule(const ScheduleRecord& r) {
  std::lock_guard lock(mu_);
  {
    Stmt q(db_, "SELECT 1 FROM schedules WHERE name=?");
    if (!q.text(1, r.name).row())
      return make_error(ErrorCode::kNotFound, "no schedule named \"" + r.name + "\"");
  }
  std::string sql = std::string("INSERT OR REPLACE INTO schedules(") + kScheduleColumns +
                    ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt s(db_, sql.c_str());
  bind_schedule(s, r);
  return s.run("update schedule");
}

Status SqliteStore::remove_schedule(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM schedules WHERE name=?");
  if (Status r = s.text(1, name).run("remove schedule"); !r) return r;
  if (sqlite3_changes(db_) == 0)
    return make_error(ErrorCode::kNotFound, "no schedule named \"" + name + "\"");
  return Ok{};
}

std::vector<ScheduleRecord> SqliteStore::schedules() const {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kScheduleColumns + " FROM schedules ORDER BY name";
  Stmt s(db_, sql.c_str());
  std::vector<ScheduleRecord> out;
  while (s.row()) {
    ScheduleRecord r;
    r.name = s.col_text(0);
    r.cron = s.col_text(1);
    r.time_zone = s.col_text(2);
    r.overlap = s.col_text(3);
    r.yaml = s.col_text(4);
    r.source_name = s.col_text(5);
    r.vars = vars_from_json(s.col_text(6));
    r.experiment_name = s.col_text(7);
    r.paused = s.col_i64(8) != 0;
    r.created_by = s.col_text(9);
    r.created_unix_ms = s.col_i64(10);
    r.next_fire_unix_ms = s.col_i64(11);
    r.last_fire_unix_ms = s.col_i64(12);
    r.last_run_id = s.col_text(13);
    r.last_outcome = s.col_text(14);
    r.missed_fires = s.col_i64(15);
    r.missed_first_unix_ms = s.col_i64(16);
    r.missed_last_unix_ms = s.col_i64(17);
    r.environment = vars_from_json(s.col_text(18));
    out.push_back(std::move(r));
  }
  return out;
}

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

Status SqliteStore::save_halt(const HaltRecord& h) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT OR REPLACE INTO halt(id, halted, halted_by, halted_unix_ms, reason, lifted_by, "
         "lifted_unix_ms) VALUES(1,?,?,?,?,?,?)");
  s.i64(1, h.halted ? 1 : 0)
      .text(2, h.halted_by)
      .i64(3, h.halted_unix_ms)
      .text(4, h.reason)
      .text(5, h.lifted_by)
      .i64(6, h.lifted_unix_ms);
  return s.run("save the halt switch");
}

std::optional<HaltRecord> SqliteStore::load_halt() const {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT halted, halted_by, halted_unix_ms, reason, lifted_by, lifted_unix_ms FROM halt "
         "WHERE id = 1");
  if (!s.row()) return std::nullopt;
  HaltRecord h;
  h.halted = s.col_i64(0) != 0;
  h.halted_by = s.col_text(1);
  h.halted_unix_ms = s.col_i64(2);
  h.reason = s.col_text(3);
  h.lifted_by = s.col_text(4);
  h.lifted_unix_ms = s.col_i64(5);
  return h;
}

}  // namespace faultline::controller
