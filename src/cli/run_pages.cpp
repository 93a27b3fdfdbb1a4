#include "cli/run_pages.h"

#include "cli/client_security.h"

namespace faultline::cli {

grpc::Status get_whole_run(v1::ControllerApi::Stub& stub, const std::string& run_id, v1::Run* out) {
  out->Clear();
  v1::GetRunRequest req;
  req.set_run_id(run_id);
  for (;;) {
    v1::Run page;
    auto ctx = api_context(std::chrono::seconds(10));
    grpc::Status s = stub.GetRun(ctx.get(), req, &page);
    if (!s.ok()) return s;
    if (req.after_seq() == 0) {
      out->set_run_id(page.run_id());
      out->set_experiment_name(page.experiment_name());
    }
    out->set_state(page.state());
    if (!out->has_summary() && page.has_summary()) *out->mutable_summary() = page.summary();
    for (auto& ev : *page.mutable_events()) *out->add_events() = std::move(ev);
    // An older controller sends everything at once and never sets more_events.
    if (!page.more_events() || page.events_size() == 0) return grpc::Status::OK;
    req.set_after_seq(out->events(out->events_size() - 1).seq());
  }
}

}  // namespace faultline::cli
