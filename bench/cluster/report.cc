#include "bench/cluster/report.h"

#include <nlohmann/json.hpp>

namespace synod::bench {

namespace {

double ms(uint64_t nanos) {
  return static_cast<double>(nanos) / 1e6;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace

uint64_t Report::error_count() const {
  uint64_t n = 0;
  for (const auto& [kind, count] : errors) n += count;
  return n;
}

void print_summary(std::FILE* out, const Report& r) {
  const BenchOptions& o = *r.options;
  bool watch = o.workload == Workload::kWatch;
  std::fprintf(out, "\n%s: %s\n", o.workload_name.c_str(),
               o.workload == Workload::kFsync ? ("fdatasync in " + o.dir).c_str()
                                              : (join(o.endpoints) + " (" + r.server_version + ")").c_str());
  if (o.workload != Workload::kFsync) {
    std::fprintf(out, "  %d connections, %d clients%s, key %d B, value %d B, key space %llu%s\n", o.conns,
                 o.clients, watch ? (" putting, " + std::to_string(o.watchers) + " watchers").c_str() : "",
                 o.key_size, o.value_size, static_cast<unsigned long long>(o.key_space),
                 o.rate > 0
                     ? (", open loop at " + std::to_string(static_cast<long long>(o.rate)) + "/s").c_str()
                     : ", closed loop");
  }
  std::fprintf(out, "  %-12s %llu in %.2f s: %.0f/s\n", watch ? "events" : "operations",
               static_cast<unsigned long long>(r.ops), r.seconds, r.throughput());
  if (watch) {
    std::fprintf(out, "  %-12s %llu acknowledged\n", "puts", static_cast<unsigned long long>(r.watch_puts));
  }
  if (o.workload == Workload::kTxnCas) {
    std::fprintf(out, "  %-12s %llu swapped, %llu lost the race\n", "compares",
                 static_cast<unsigned long long>(r.cas_won), static_cast<unsigned long long>(r.cas_lost));
  }
  const Histogram& h = r.latency;
  std::fprintf(out, "  %-12s avg %.3f  min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
               watch ? "put->event" : "latency", h.mean() / 1e6, ms(h.min()), ms(h.at(0.5)), ms(h.at(0.9)),
               ms(h.at(0.99)), ms(h.at(0.999)), ms(h.max()));
  std::fprintf(out, "  %-12s %llu\n", "errors", static_cast<unsigned long long>(r.error_count()));
  for (const auto& [kind, count] : r.errors) {
    std::fprintf(out, "    %8llu  %s\n", static_cast<unsigned long long>(count), kind.c_str());
  }
}

void print_json(std::FILE* out, const Report& r) {
  const BenchOptions& o = *r.options;
  const Histogram& h = r.latency;
  nlohmann::json j;
  j["workload"] = o.workload_name;
  j["server_version"] = r.server_version;
  j["endpoints"] = join(o.endpoints);
  j["conns"] = o.conns;
  j["clients"] = o.clients;
  j["rate"] = o.rate;
  j["key_size"] = o.key_size;
  j["value_size"] = o.value_size;
  j["key_space"] = o.key_space;
  if (o.workload == Workload::kRange) j["consistency"] = o.serializable ? "s" : "l";
  j["ops"] = r.ops;
  j["errors"] = r.error_count();
  j["errors_by_kind"] = r.errors;
  j["seconds"] = r.seconds;
  j["throughput"] = r.throughput();
  j["latency_ms"] = {{"avg", h.mean() / 1e6}, {"min", ms(h.min())},    {"p50", ms(h.at(0.5))},
                     {"p90", ms(h.at(0.9))},  {"p99", ms(h.at(0.99))}, {"p999", ms(h.at(0.999))},
                     {"max", ms(h.max())}};
  nlohmann::json cdf = nlohmann::json::array();
  for (const auto& [nanos, fraction] : h.cdf(150)) cdf.push_back({ms(nanos), fraction});
  j["cdf"] = cdf;
  if (o.workload == Workload::kWatch) {
    j["watch"] = {{"watchers", o.watchers}, {"puts", r.watch_puts}, {"events", r.watch_events}};
  }
  if (o.workload == Workload::kTxnCas) j["cas"] = {{"swapped", r.cas_won}, {"lost", r.cas_lost}};
  std::fprintf(out, "%s\n", j.dump().c_str());
}

}  // namespace synod::bench
