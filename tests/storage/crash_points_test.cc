// Crash-point enumeration for DiskStorage (the WAL and snapshot files together). A scripted workload of
// appends, overwrites, hard-state changes, snapshots, compaction and an installed snapshot runs on the
// fault-injecting file system with the power cut at each mutating call in turn; then every subset of
// the unsynced pages is kept (the rest lost), and torn and mixed patterns besides, with the unsynced
// directory changes kept or reverted. Every recovery must succeed and return what the acknowledged operations
// made durable (plus possibly part of the one in flight), with the hard state never going back; and the
// recovered log must take new appends and recover again.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "base/random.h"
#include "sim/durable_store.h"
#include "sim/faulty_file_system.h"
#include "sim/power_cut_file_system.h"
#include "storage/disk_storage.h"

namespace synod::storage {
namespace {

using sim::FaultyFileSystem;
using sim::PageFate;

struct Op {
  std::string name;
  Ready ready;           // persist(ready), unless `snapshot` is set
  SnapshotPtr snapshot;  // save_snapshot(snapshot)
};

Ready entries(Index from, Index to, Term term, std::optional<HardState> hard_state = std::nullopt,
              size_t bytes = 100) {
  Ready ready;
  for (Index i = from; i <= to; ++i) {
    ready.entries.push_back(
        Entry{term, i, EntryType::kNormal, std::string(bytes, static_cast<char>('a' + i % 26))});
  }
  ready.hard_state = hard_state;
  return ready;
}

SnapshotPtr snapshot(Index index, Term term) {
  return std::make_shared<const Snapshot>(
      Snapshot{SnapshotMeta{index, term, ConfState{{1, 2, 3}}}, "s" + std::to_string(index)});
}

std::vector<Op> workload() {
  std::vector<Op> ops;
  ops.push_back({"append 1-3", entries(1, 3, 1, HardState{1, 1, 0}), nullptr});
  ops.push_back({"append 4-6", entries(4, 6, 1, HardState{1, 1, 3}), nullptr});
  Ready term2;
  term2.hard_state = HardState{2, 0, 3};
  ops.push_back({"new term", term2, nullptr});
  Ready vote;
  vote.hard_state = HardState{2, 2, 3};
  ops.push_back({"vote", vote, nullptr});
  ops.push_back({"overwrite 5-7", entries(5, 7, 2, HardState{2, 2, 4}), nullptr});
  ops.push_back({"append 8-20", entries(8, 20, 2, HardState{2, 2, 12}, 1000), nullptr});  // several pages
  ops.push_back({"snapshot 10", Ready{}, snapshot(10, 2)});
  ops.push_back({"append 21-30", entries(21, 30, 2, HardState{2, 2, 25}, 700), nullptr});
  ops.push_back({"snapshot 20", Ready{}, snapshot(20, 2)});
  ops.push_back({"snapshot 25", Ready{}, snapshot(25, 2)});
  Ready install;
  install.snapshot = snapshot(40, 3);
  install.hard_state = HardState{3, 0, 40};
  ops.push_back({"install snapshot 40", install, nullptr});
  ops.push_back({"append 41-45", entries(41, 45, 3, HardState{3, 0, 42}), nullptr});
  return ops;
}

DiskStorageOptions options() {
  DiskStorageOptions options;
  options.dir = "/node";
  options.cluster_id = 5;
  options.node_id = 1;
  options.segment_bytes = 1024;  // small, so the workload rotates and releases segments
  return options;
}

std::optional<Entry> entry_at(const DurableState& state, Index index) {
  for (const Entry& e : state.entries) {
    if (e.index == index) return e;
  }
  return std::nullopt;
}
Index snapshot_index(const DurableState& state) {
  return state.snapshot ? state.snapshot->meta.index : 0;
}
Index last_index(const DurableState& state) {
  return state.entries.empty() ? snapshot_index(state) : state.entries.back().index;
}

// `recovered` must be the state before the operation in flight (`before`), after it (`after`), or in
// between: the in-flight operation may have landed in part, never anything acknowledged lost.
std::string explain_mismatch(const DurableState& recovered, const DurableState& before,
                             const DurableState& after) {
  if (!(recovered.hard_state == before.hard_state) && !(recovered.hard_state == after.hard_state)) {
    return "hard state term " + std::to_string(recovered.hard_state.term) + " vote " +
           std::to_string(recovered.hard_state.vote) +
           " is neither the acknowledged one nor the one in flight";
  }
  Index base = snapshot_index(recovered);
  if (base != snapshot_index(before) && base != snapshot_index(after)) {
    return "recovered snapshot " + std::to_string(base) +
           " is neither the acknowledged one nor the one in flight";
  }
  if (recovered.snapshot && recovered.snapshot->data != "s" + std::to_string(base))
    return "snapshot data differs";
  for (const Entry& e : recovered.entries) {
    std::optional<Entry> old_entry = entry_at(before, e.index);
    std::optional<Entry> new_entry = entry_at(after, e.index);
    if (!(old_entry && *old_entry == e) && !(new_entry && *new_entry == e)) {
      return "entry " + std::to_string(e.index) + " (term " + std::to_string(e.term) +
             ") was never written there";
    }
  }
  for (Index i = base + 1; i <= last_index(before); ++i) {
    std::optional<Entry> old_entry = entry_at(before, i);
    if (!old_entry) continue;  // compacted in the acknowledged state
    std::optional<Entry> new_entry = entry_at(after, i);
    bool in_flight_changes_it = !(new_entry && *new_entry == *old_entry);
    std::optional<Entry> got = entry_at(recovered, i);
    if (!(got && *got == *old_entry) && !in_flight_changes_it) {
      return "acknowledged entry " + std::to_string(i) + " is lost";
    }
  }
  return {};
}

// Runs the workload with the power cut at mutating call `cut` (0: never). Returns how many operations
// were acknowledged, and fills the model states.
size_t run_until_cut(FaultyFileSystem& disk, uint64_t cut, uint64_t* mutations) {
  sim::PowerCutFileSystem power(disk);
  if (cut != 0) power.cut_at(cut);
  DurableState state;
  std::vector<std::string> notes;
  Result<std::unique_ptr<DiskStorage>> storage = DiskStorage::open(power, options(), state, notes);
  size_t acknowledged = 0;
  if (storage.is_ok()) {
    for (const Op& op : workload()) {
      Status status =
          op.snapshot ? storage.value()->save_snapshot(op.snapshot) : storage.value()->persist(op.ready);
      if (!status.is_ok()) break;
      ++acknowledged;
    }
  }
  if (mutations != nullptr) *mutations = power.mutations();
  return acknowledged;
}

struct FatePattern {
  std::string name;
  std::function<PageFate(const sim::DirtyPage&)> fate;
};

std::vector<FatePattern> fate_patterns() {
  std::vector<FatePattern> patterns = {
      {"all lost", [](const sim::DirtyPage&) { return PageFate::kLost; }},
      {"all kept", [](const sim::DirtyPage&) { return PageFate::kKept; }},
      {"all torn", [](const sim::DirtyPage&) { return PageFate::kTorn; }},
      {"even kept",
       [](const sim::DirtyPage& p) { return p.page % 2 == 0 ? PageFate::kKept : PageFate::kLost; }},
      {"odd kept",
       [](const sim::DirtyPage& p) { return p.page % 2 == 1 ? PageFate::kKept : PageFate::kLost; }},
      {"first torn, rest kept",
       [](const sim::DirtyPage& p) { return p.page == 0 ? PageFate::kTorn : PageFate::kKept; }},
  };
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto random = std::make_shared<Random>(seed);
    patterns.push_back({"random " + std::to_string(seed), [random](const sim::DirtyPage&) {
                          return static_cast<PageFate>(random->uniform(3));
                        }});
  }
  return patterns;
}

TEST(CrashPoints, everyCutAndEveryLossPatternRecoversWhatWasAcknowledged) {
  // The model: the same operations on the in-memory store whose contract DiskStorage implements.
  std::vector<DurableState> model(1);
  sim::DurableStore store;
  for (const Op& op : workload()) {
    ASSERT_TRUE((op.snapshot ? store.save_snapshot(op.snapshot) : store.persist(op.ready)).is_ok())
        << op.name;
    model.push_back(store.state());
  }
  FaultyFileSystem clean;
  uint64_t total = 0;
  ASSERT_EQ(run_until_cut(clean, 0, &total), workload().size());
  ASSERT_GT(total, 50U);

  size_t recoveries = 0;
  size_t most_dirty = 0;
  for (uint64_t cut = 1; cut <= total; ++cut) {
    // Every subset of the unsynced pages kept (the rest lost), for up to 8 pages, besides the patterns.
    std::vector<FatePattern> patterns = fate_patterns();
    {
      FaultyFileSystem probe;
      run_until_cut(probe, cut, nullptr);
      std::vector<sim::DirtyPage> dirty = probe.dirty_pages();
      most_dirty = std::max(most_dirty, dirty.size());
      size_t enumerated = std::min<size_t>(dirty.size(), 8);
      for (uint32_t mask = 0; mask < (1U << enumerated); ++mask) {
        patterns.push_back(
            {"subset " + std::to_string(mask) + " of " + std::to_string(dirty.size()) + " kept",
             [dirty, mask](const sim::DirtyPage& page) {
               auto at = std::find(dirty.begin(), dirty.end(), page);
               auto position = static_cast<size_t>(at - dirty.begin());
               bool kept = position < 8 && ((mask >> position) & 1U) != 0;
               return kept ? PageFate::kKept : PageFate::kLost;
             }});
      }
    }
    for (const FatePattern& pattern : patterns) {
      for (bool keep_dirs : {false, true}) {
        FaultyFileSystem disk;
        size_t acknowledged = run_until_cut(disk, cut, nullptr);
        ASSERT_LT(acknowledged, model.size());
        disk.crash_with(pattern.fate, keep_dirs);
        std::string where =
            "cut at call " + std::to_string(cut) + " of " + std::to_string(total) + " (during \"" +
            (acknowledged < workload().size() ? workload()[acknowledged].name : "nothing") + "\"), pages " +
            pattern.name + ", directory changes " + (keep_dirs ? "kept" : "reverted");
        DurableState recovered;
        std::vector<std::string> notes;
        Result<std::unique_ptr<DiskStorage>> storage = DiskStorage::open(disk, options(), recovered, notes);
        ASSERT_TRUE(storage.is_ok()) << where << ": " << storage.status().to_string();
        const DurableState& before = model[acknowledged];
        const DurableState& after = model[std::min(acknowledged + 1, model.size() - 1)];
        std::string mismatch = explain_mismatch(recovered, before, after);
        ASSERT_TRUE(mismatch.empty()) << where << ": " << mismatch;
        ++recoveries;

        // The recovered log takes new appends, and they survive the next restart.
        Index next = last_index(recovered) + 1;
        Ready more = entries(next, next + 1, 9, HardState{9, 0, recovered.hard_state.commit});
        ASSERT_TRUE(storage.value()->persist(more).is_ok()) << where;
        storage = Result<std::unique_ptr<DiskStorage>>(Status(ErrorCode::kUnavailable, "closed"));
        DurableState again;
        Result<std::unique_ptr<DiskStorage>> reopened = DiskStorage::open(disk, options(), again, notes);
        ASSERT_TRUE(reopened.is_ok()) << where << " (second recovery): " << reopened.status().to_string();
        ASSERT_EQ(last_index(again), next + 1) << where;
        EXPECT_EQ(entry_at(again, next + 1)->term, 9U) << where;
        EXPECT_EQ(again.hard_state.term, 9U) << where;
      }
    }
  }
  std::cout << recoveries << " recoveries from " << total << " cut points (at most " << most_dirty
            << " unsynced pages at a cut)\n";
}

}  // namespace
}  // namespace synod::storage
