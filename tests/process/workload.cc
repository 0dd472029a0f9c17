#include "process/workload.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace synod::process_test {

using namespace std::chrono_literals;

void Outcomes::unique_put(const std::string& key, const std::string& value, const OpResult& result) {
  std::lock_guard<std::mutex> lock(mutex);
  switch (result.status) {
    case check::OpStatus::kOk: acked[key] = value; break;
    case check::OpStatus::kUnknown: unknown.insert(key); break;
    case check::OpStatus::kFail: failed.insert(key); break;
  }
}

Workload::Workload(ProcessCluster& cluster, EtcdChannels& channels, HistoryRecorder& history,
                   Outcomes& outcomes, WorkloadOptions options)
    : cluster_(cluster), channels_(channels), history_(history), outcomes_(outcomes), options_(options) {}

Workload::~Workload() {
  stop();
}

void Workload::start() {
  for (int i = 0; i < options_.clients; ++i) {
    int64_t id = options_.first_client_id + i;
    threads_.emplace_back([this, id] { client(id); });
  }
}

void Workload::stop() {
  stop_ = true;
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

std::optional<int> Workload::pick(size_t turn) const {
  if (options_.pinned != 0) return options_.pinned;
  std::vector<int> serving = cluster_.serving();
  if (serving.empty()) return std::nullopt;
  return serving[turn % serving.size()];
}

void Workload::client(int64_t id) {
  RecordingClient client(channels_, history_, id, options_.deadline);
  std::string me = std::to_string(id);
  size_t turn = static_cast<size_t>(id);
  for (uint64_t n = 1; !stop_; ++n) {
    std::string fresh = "v" + me + "." + std::to_string(n);
    std::optional<int> member = pick(turn++);
    if (!member) {
      std::this_thread::sleep_for(10ms);
      continue;
    }
    bool ok = false;
    uint64_t kind = n % 4;
    if (kind == 1 && options_.shared_keys > 0) {
      std::string key = "s" + std::to_string((n / 4) % static_cast<uint64_t>(options_.shared_keys));
      OpResult read = client.get(*member, key);
      ok = read.ok();
      if (read.ok() && read.value && !stop_) {
        std::optional<int> writer = pick(turn++);
        if (writer) ok = client.cas(*writer, key, *read.value, fresh).ok();
      }
    } else if (kind == 3) {
      OpResult put = client.put(*member, kCounterKey, fresh);
      ok = put.ok();
      std::lock_guard<std::mutex> lock(outcomes_.mutex);
      if (put.status == check::OpStatus::kOk) ++outcomes_.counter_acked;
      if (put.status == check::OpStatus::kUnknown) ++outcomes_.counter_unknown;
    } else {
      std::string key = options_.prefix + "c" + me + "/" + std::to_string(n);
      OpResult put = client.put(*member, key, fresh);
      ok = put.ok();
      outcomes_.unique_put(key, fresh, put);
    }
    if (ok) {
      ++answered_;
    } else {
      std::this_thread::sleep_for(20ms);  // no leader yet, or the member is gone: do not spin
    }
  }
}

bool init_shared_keys(EtcdChannels& channels, ProcessCluster& cluster, HistoryRecorder& history,
                      int shared_keys, Clock::duration timeout) {
  RecordingClient client(channels, history, 0);
  Clock::time_point deadline = Clock::now() + timeout;
  size_t turn = 0;
  for (int i = 0; i < shared_keys; ++i) {
    std::string key = "s" + std::to_string(i);
    bool done = false;
    while (!done) {
      std::vector<int> serving = cluster.serving();
      if (serving.empty()) return false;
      done = client.put(serving[turn++ % serving.size()], key, "init").ok();
      if (!done && Clock::now() >= deadline) return false;
      if (!done) std::this_thread::sleep_for(50ms);
    }
  }
  return true;
}

void expect_writes_intact(EtcdChannels& channels, ProcessCluster& cluster, Outcomes& outcomes) {
  std::string error;
  std::optional<std::map<std::string, mvccpb::KeyValue>> all =
      range_all_retrying(channels, cluster, kUniquePrefix, kUniqueEnd, 30s, &error);
  ASSERT_TRUE(all.has_value()) << "no linearizable range of the unique keys: " << error;
  std::lock_guard<std::mutex> lock(outcomes.mutex);
  size_t lost = 0;
  size_t wrong = 0;
  for (const auto& [key, value] : outcomes.acked) {
    auto it = all->find(key);
    if (it == all->end()) {
      if (++lost <= 10) ADD_FAILURE() << "acknowledged put of " << key << " = " << value << " is lost";
    } else if (it->second.value() != value) {
      if (++wrong <= 10) ADD_FAILURE() << key << " holds " << it->second.value() << ", not " << value;
    }
  }
  EXPECT_EQ(lost, 0U) << "of " << outcomes.acked.size() << " acknowledged puts";
  EXPECT_EQ(wrong, 0U);
  size_t present_unknown = 0;
  size_t twice = 0;
  for (const auto& [key, kv] : *all) {
    bool acked = outcomes.acked.count(key) != 0;
    bool unknown = outcomes.unknown.count(key) != 0;
    present_unknown += unknown ? 1 : 0;
    EXPECT_TRUE(acked || unknown) << key << " exists but its put "
                                  << (outcomes.failed.count(key) != 0 ? "was reported as failed (definite)"
                                                                      : "was never sent");
    if (kv.version() != 1 && ++twice <= 10) {
      ADD_FAILURE() << key << " has version " << kv.version() << ": its one put was applied more than once";
    }
  }
  std::optional<std::map<std::string, mvccpb::KeyValue>> counter =
      range_all_retrying(channels, cluster, kCounterKey, "", 30s, &error);
  ASSERT_TRUE(counter.has_value()) << error;
  int64_t version = counter->empty() ? 0 : counter->begin()->second.version();
  EXPECT_GE(static_cast<uint64_t>(version), outcomes.counter_acked) << "acknowledged counter puts were lost";
  EXPECT_LE(static_cast<uint64_t>(version), outcomes.counter_acked + outcomes.counter_unknown)
      << "more counter puts were applied than were sent";
  std::printf(
      "[writes] %zu acknowledged unique puts all present; %zu of %zu of unknown outcome applied; %zu "
      "failed; counter version %lld (acknowledged %llu, unknown %llu)\n",
      outcomes.acked.size(), present_unknown, outcomes.unknown.size(), outcomes.failed.size(),
      static_cast<long long>(version), static_cast<unsigned long long>(outcomes.counter_acked),
      static_cast<unsigned long long>(outcomes.counter_unknown));
}

void expect_linearizable(const HistoryRecorder& history, const ProcessCluster& cluster,
                         const std::string& name) {
  std::string path = cluster.root() + "/" + name + ".history.jsonl";
  std::string report;
  Clock::time_point start = Clock::now();
  bool ok = history.check(path, report);
  check::History ops = history.history();
  size_t counts[3] = {0, 0, 0};
  std::vector<Clock::duration> latencies;
  for (const check::Operation& op : ops) {
    ++counts[static_cast<int>(op.status)];
    if (op.status == check::OpStatus::kOk)
      latencies.push_back(std::chrono::microseconds(*op.return_time - op.call));
  }
  std::printf(
      "[history] %zu operations (%zu ok, median latency %s; %zu fail, %zu unknown) checked in %s: %s\n",
      ops.size(), counts[0], format_ms(median(latencies)).c_str(), counts[1], counts[2],
      format_ms(Clock::now() - start).c_str(), ok ? "linearizable" : "NOT linearizable");
  for (const auto& [error, count] : history.errors())
    std::printf("[history]   %zu x %s\n", count, error.c_str());
  EXPECT_TRUE(ok) << "synod-check " << path << ":\n" << report;
}

}  // namespace synod::process_test
