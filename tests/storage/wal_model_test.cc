// Model-based tests of DiskStorage (the write-ahead log and the snapshot files) with RapidCheck: random
// sequences of what a Raft node may legally ask of its storage (appends, overwrites above the commit
// index, hard states, saved and installed snapshots, clean restarts and power cuts) run on the
// fault-injecting file system and on the in-memory model of what must be kept (sim::DurableStore).
//
//   1. Without disk faults every operation succeeds; after each one the log reads back exactly the
//      model's entries, and every restart, clean or after a crash, recovers exactly the model's state
//      (nothing was unsynced once an operation was acknowledged).
//   2. With a write, a sync or a directory sync failing (scheduled, at random, or a full disk), the
//      storage refuses every call after the failure, and a crash and restart recover the state before
//      the failed operation, the state after it, or the one in between that a partly durable batch
//      leaves (hard state from one of the two, entries a prefix of the new ones); the recovered log
//      then takes new appends and keeps them.
//
// Operation sequences are drawn as raw choices (Intent) that are turned into legal operations against
// the model as they run, so every shrunk sequence is still legal; a failure prints the concrete
// operations it ran.
//
// Known failure (left in place, not fixed here): a batch that overwrites entries below the first index
// of the segment it lands in, followed by a snapshot that releases the older segment, makes every later
// recovery refuse the log ("entry N leaves a gap after entry M").
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "base/random.h"
#include "sim/durable_store.h"
#include "sim/faulty_file_system.h"
#include "storage/disk_storage.h"
#include "support/rapidcheck_gtest.h"

namespace synod::storage {
namespace {

using sim::FaultOp;
using sim::FaultyFileSystem;

// ---------------------------------------------------------------------------------------------------
// Helpers on a DurableState.

Index snapshot_index(const DurableState& state) {
  return state.snapshot ? state.snapshot->meta.index : 0;
}
Term snapshot_term(const DurableState& state) {
  return state.snapshot ? state.snapshot->meta.term : 0;
}
Index last_index(const DurableState& state) {
  return state.entries.empty() ? snapshot_index(state) : state.entries.back().index;
}
Term term_at(const DurableState& state, Index index) {
  if (index == snapshot_index(state)) return snapshot_term(state);
  for (const Entry& e : state.entries) {
    if (e.index == index) return e.term;
  }
  return 0;
}

std::string describe(const HardState& hs) {
  return "{term " + std::to_string(hs.term) + ", vote " + std::to_string(hs.vote) + ", commit " +
         std::to_string(hs.commit) + "}";
}
std::string describe(const Entry& e) {
  return "entry " + std::to_string(e.index) + " (term " + std::to_string(e.term) + ", " +
         std::to_string(e.data.size()) + " bytes, \"" + e.data.substr(0, 16) + "\")";
}
std::string describe(const SnapshotPtr& snapshot) {
  if (!snapshot) return "no snapshot";
  std::string voters;
  for (NodeId v : snapshot->meta.conf.voters) voters += (voters.empty() ? "" : ",") + std::to_string(v);
  return "snapshot " + std::to_string(snapshot->meta.index) + " (term " +
         std::to_string(snapshot->meta.term) + ", voters " + voters + ", data \"" +
         snapshot->data.substr(0, 24) + "\")";
}
std::string describe_entries(const std::vector<Entry>& entries) {
  if (entries.empty()) return "no entries";
  return "entries " + std::to_string(entries.front().index) + "-" + std::to_string(entries.back().index);
}
std::string describe(const DurableState& state) {
  return "hard state " + describe(state.hard_state) + ", " + describe(state.snapshot) + ", " +
         describe_entries(state.entries);
}

bool same_snapshot(const SnapshotPtr& a, const SnapshotPtr& b) {
  return (!a && !b) || (a && b && *a == *b);
}

// What differs between `got` and `want` ("" if they are equal).
std::string diff_entries(const std::vector<Entry>& got, const std::vector<Entry>& want) {
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!(got[i] == want[i])) return "got " + describe(got[i]) + ", want " + describe(want[i]);
  }
  if (got.size() > want.size()) return "got an extra " + describe(got[want.size()]);
  if (got.size() < want.size()) return "missing " + describe(want[got.size()]);
  return {};
}
std::string diff_states(const DurableState& got, const DurableState& want) {
  if (!(got.hard_state == want.hard_state)) {
    return "hard state " + describe(got.hard_state) + ", want " + describe(want.hard_state);
  }
  if (!same_snapshot(got.snapshot, want.snapshot)) {
    return describe(got.snapshot) + ", want " + describe(want.snapshot);
  }
  std::string entries = diff_entries(got.entries, want.entries);
  if (!entries.empty()) return "entries: " + entries;
  return {};
}

// The entries of `state` after `base`, or nullopt if its snapshot is past `base` (then it does not say
// which entries follow `base`).
std::optional<std::vector<Entry>> entries_after(const DurableState& state, Index base) {
  if (snapshot_index(state) > base) return std::nullopt;
  std::vector<Entry> out;
  for (const Entry& e : state.entries) {
    if (e.index > base) out.push_back(e);
  }
  return out;
}

// `recovered` must be the state before the operation that failed (`before`), the state after it
// (`after`), or what a partly durable batch leaves in between: the hard state and the snapshot each of
// one of the two, and the entries either the old ones or a prefix of the new ones that keeps every old
// entry the operation did not replace. (tests/storage/crash_points_test.cc's explain_mismatch, made
// stricter: entries cannot mix old and new out of order, and the hard state, written after the
// entries, comes with all of them.)
std::string explain_mismatch(const DurableState& recovered, const DurableState& before,
                             const DurableState& after) {
  bool hs_before = recovered.hard_state == before.hard_state;
  bool hs_after = recovered.hard_state == after.hard_state;
  if (!hs_before && !hs_after) {
    return "hard state " + describe(recovered.hard_state) + " is neither the acknowledged one " +
           describe(before.hard_state) + " nor the one in flight " + describe(after.hard_state);
  }
  bool snap_before = same_snapshot(recovered.snapshot, before.snapshot);
  bool snap_after = same_snapshot(recovered.snapshot, after.snapshot);
  if (!snap_before && !snap_after) {
    return "recovered " + describe(recovered.snapshot) + " is neither the acknowledged " +
           describe(before.snapshot) + " nor the one in flight " + describe(after.snapshot);
  }
  Index base = snapshot_index(recovered);
  for (size_t i = 0; i < recovered.entries.size(); ++i) {
    if (recovered.entries[i].index != base + 1 + i) {
      return "recovered entries are not contiguous after the snapshot at " + std::to_string(base) + ": " +
             describe(recovered.entries[i]) + " at position " + std::to_string(i);
    }
  }
  std::optional<std::vector<Entry>> old_entries = entries_after(before, base);
  std::optional<std::vector<Entry>> new_entries = entries_after(after, base);
  bool entries_before = old_entries && *old_entries == recovered.entries;
  bool entries_after_prefix = false;
  if (new_entries && recovered.entries.size() <= new_entries->size() &&
      std::equal(recovered.entries.begin(), recovered.entries.end(), new_entries->begin())) {
    size_t common = 0;
    if (old_entries) {
      while (common < old_entries->size() && common < new_entries->size() &&
             (*old_entries)[common] == (*new_entries)[common]) {
        ++common;
      }
    }
    entries_after_prefix = recovered.entries.size() >= common;
  }
  if (!entries_before && !entries_after_prefix) {
    std::string why = describe_entries(recovered.entries) + " after snapshot " + std::to_string(base) +
                      " are neither the acknowledged ones";
    if (old_entries) why += " (" + diff_entries(recovered.entries, *old_entries) + ")";
    why += " nor a prefix of the ones in flight that keeps what it did not replace";
    if (new_entries) why += " (" + diff_entries(recovered.entries, *new_entries) + ")";
    return why;
  }
  if (hs_after && !hs_before) {
    // The hard state is the last record of its batch, after the snapshot: it comes with all the rest.
    if (!snap_after) return "the new hard state came back without the new snapshot";
    if (!new_entries || *new_entries != recovered.entries) {
      return "the new hard state came back without all the new entries (" +
             (new_entries ? diff_entries(recovered.entries, *new_entries) : std::string("?")) + ")";
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------------
// The workload.

enum class Kind : uint8_t { kAppend, kHardState, kSaveSnapshot, kInstallSnapshot, kReopen, kCrash };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kAppend: return "append";
    case Kind::kHardState: return "hard-state";
    case Kind::kSaveSnapshot: return "save-snapshot";
    case Kind::kInstallSnapshot: return "install-snapshot";
    case Kind::kReopen: return "reopen";
    case Kind::kCrash: return "crash";
  }
  return "?";
}

// One raw choice; turned into a legal operation against the model when it runs (concretize). The
// parameters are in [0, 100) and shrink towards 0, which is the simplest reading of each.
struct Intent {
  Kind kind = Kind::kAppend;
  std::array<int, 6> p{};
};

void showValue(const Intent& intent, std::ostream& os) {
  os << kind_name(intent.kind) << "(";
  for (size_t i = 0; i < intent.p.size(); ++i) os << (i == 0 ? "" : ",") << intent.p[i];
  os << ")";
}

rc::Gen<Intent> intent_gen() {
  rc::Gen<int> param = rc::gen::inRange(0, 100);
  return rc::gen::resize(
      100, rc::gen::map(rc::gen::tuple(rc::gen::weightedElement<Kind>({{40, Kind::kAppend},
                                                                       {10, Kind::kHardState},
                                                                       {15, Kind::kSaveSnapshot},
                                                                       {5, Kind::kInstallSnapshot},
                                                                       {7, Kind::kReopen},
                                                                       {8, Kind::kCrash}}),
                                       param, param, param, param, param, param),
                        [](const std::tuple<Kind, int, int, int, int, int, int>& t) {
                          Intent intent;
                          intent.kind = std::get<0>(t);
                          intent.p = {std::get<1>(t), std::get<2>(t), std::get<3>(t),
                                      std::get<4>(t), std::get<5>(t), std::get<6>(t)};
                          return intent;
                        }));
}

// A concrete operation.
struct Op {
  Kind kind = Kind::kAppend;
  Ready ready;           // kAppend, kHardState, kInstallSnapshot: persist(ready)
  SnapshotPtr snapshot;  // kSaveSnapshot: save_snapshot(snapshot); none: nothing to snapshot, skipped
  uint64_t seed = 0;     // kCrash: fs.crash(Random(seed))
  std::string text;
};

std::vector<Entry> make_entries(Index from, Index count, Term term, size_t bytes, size_t op_number) {
  std::vector<Entry> entries;
  for (Index i = from; i < from + count; ++i) {
    // Unique per (index, term, operation), so a stale copy never passes for the right one.
    std::string data = std::to_string(i) + "/" + std::to_string(term) + "#" + std::to_string(op_number) + ":";
    data.resize(std::max(bytes, data.size()), static_cast<char>('a' + (i + term) % 26));
    entries.push_back(Entry{term, i, i % 7 == 0 ? EntryType::kNoop : EntryType::kNormal, std::move(data)});
  }
  return entries;
}

SnapshotPtr make_snapshot(Index index, Term term, int voters, size_t bytes, const std::string& tag) {
  Snapshot snapshot;
  snapshot.meta.index = index;
  snapshot.meta.term = term;
  for (int v = 1; v <= voters; ++v) snapshot.meta.conf.voters.push_back(static_cast<NodeId>(v));
  snapshot.data = tag + "@" + std::to_string(index) + "/" + std::to_string(term) + ":";
  snapshot.data.resize(std::max(bytes, snapshot.data.size()), static_cast<char>('A' + index % 26));
  return std::make_shared<const Snapshot>(std::move(snapshot));
}

std::string describe_append(const Ready& ready, Index last) {
  std::string text;
  if (!ready.entries.empty()) {
    Index from = ready.entries.front().index;
    text = "entries " + std::to_string(from) + "-" + std::to_string(ready.entries.back().index) + " term " +
           std::to_string(ready.entries.front().term) + " (" +
           std::to_string(ready.entries.front().data.size()) + " bytes each)";
    if (from <= last) text += " overwriting " + std::to_string(from) + "-" + std::to_string(last);
  }
  if (ready.hard_state)
    text += (text.empty() ? "" : " + ") + std::string("hard state ") + describe(*ready.hard_state);
  return text;
}

// Turns `intent` into an operation a Raft node could issue with `state` on its disk.
Op concretize(const Intent& intent, const DurableState& state, size_t op_number) {
  const std::array<int, 6>& p = intent.p;
  const HardState& hs = state.hard_state;
  Index base = snapshot_index(state);
  Index last = last_index(state);
  auto u = [](int value) { return static_cast<uint64_t>(value); };
  Op op;
  op.kind = intent.kind;
  switch (intent.kind) {
    case Kind::kAppend: {
      // Continue the log, or (a new leader) overwrite a suffix above the commit index.
      Index low = std::max(hs.commit, base) + 1;
      bool overwrite = p[0] % 4 == 3 && last >= low;
      Index from = overwrite ? low + u(p[1]) % (last - low + 1) : last + 1;
      Index count = 1 + u(p[2]) % 6;
      bool bump = overwrite || hs.term == 0 || p[3] % 5 == 4;
      Term term = bump ? hs.term + 1 : hs.term;
      op.ready.entries = make_entries(from, count, term, u(p[4]) * 2, op_number);
      if (bump || p[3] % 5 != 0) {
        HardState next = hs;
        if (bump) {
          next.term = term;
          next.vote = u(p[3] / 5) % 4;  // 0: no vote
        }
        Index new_last = from + count - 1;
        next.commit = hs.commit + u(p[5]) % (new_last - hs.commit + 1);
        op.ready.hard_state = next;
      }
      op.text = "append " + describe_append(op.ready, last);
      break;
    }
    case Kind::kHardState: {
      HardState next = hs;
      if (p[0] % 3 == 2) {
        next.term = hs.term + 1;
        next.vote = u(p[1]) % 4;
      }
      next.commit = hs.commit + u(p[2]) % (last - hs.commit + 1);
      op.ready.hard_state = next;
      op.text = "hard state " + describe(next);
      break;
    }
    case Kind::kSaveSnapshot: {
      if (hs.commit <= base) {
        op.text = "save-snapshot: skipped, nothing committed after the snapshot at " + std::to_string(base);
        break;
      }
      Index index = base + 1 + u(p[0]) % (hs.commit - base);
      op.snapshot = make_snapshot(index, term_at(state, index), 1 + p[1] % 5, u(p[2]) * 3,
                                  "saved#" + std::to_string(op_number));
      op.text = "save " + describe(op.snapshot);
      break;
    }
    case Kind::kInstallSnapshot: {
      // A leader's snapshot from a newer term (Raft::handle_snapshot): past the end of the log, or
      // (less often) above the commit index where the log holds another term. Maybe entries after it.
      bool conflicting = p[0] >= 80 && last > hs.commit;
      Index index = conflicting ? hs.commit + 1 + u(p[0]) % (last - hs.commit) : last + 1 + u(p[0]) % 20;
      Term term = hs.term + 1;
      Term leader_term = term + u(p[3] / 4) % 2;
      op.ready.snapshot =
          make_snapshot(index, term, 1 + p[1] % 5, u(p[2]) * 3, "installed#" + std::to_string(op_number));
      op.ready.hard_state = HardState{leader_term, u(p[3]) % 4, index};
      op.ready.entries = make_entries(index + 1, u(p[4]) % 4, leader_term, u(p[5]) * 2, op_number);
      op.text = "install " + describe(op.ready.snapshot);
      if (conflicting) {
        op.text += " over entry " + std::to_string(index) + " (term " +
                   std::to_string(term_at(state, index)) + "), log " + std::to_string(base + 1) + "-" +
                   std::to_string(last);
      }
      op.text += " + " + describe_append(op.ready, index);
      break;
    }
    case Kind::kReopen: op.text = "reopen"; break;
    case Kind::kCrash:
      op.seed = u(p[0]) * 10000 + u(p[1]) * 100 + u(p[2]);
      op.text = "crash (seed " + std::to_string(op.seed) + ") and reopen";
      break;
  }
  return op;
}

// ---------------------------------------------------------------------------------------------------
// Running a workload on both.

class Harness {
 public:
  explicit Harness(uint64_t segment_bytes) {
    options_.dir = "/node";
    options_.cluster_id = 11;
    options_.node_id = 3;
    options_.segment_bytes = segment_bytes;
    transcript_ = "segment_bytes " + std::to_string(segment_bytes) + "\n";
  }

  FaultyFileSystem& fs() { return fs_; }
  DiskStorage* storage() { return storage_.get(); }
  const DurableState& model() const { return model_.state(); }
  sim::DurableStore& model_store() { return model_; }

  void note(const std::string& line) { transcript_ += "  " + line + "\n"; }
  void note_op(size_t number, const std::string& text) {
    transcript_ += "  " + std::to_string(number) + ". " + text + "\n";
  }
  [[noreturn]] void fail(const std::string& what) const {
    RC_FAIL("operations:\n" + transcript_ + "failed: " + what);
  }

  // Opens (or reopens) the storage; fills `recovered`. Returns the error, if any.
  Status open(DurableState& recovered, std::vector<std::string>& notes) {
    storage_.reset();
    Result<std::unique_ptr<DiskStorage>> opened = DiskStorage::open(fs_, options_, recovered, notes);
    if (!opened.is_ok()) return opened.status();
    storage_ = std::move(opened).value();
    return Status::ok();
  }
  void close() { storage_.reset(); }

  // Runs `op` on the storage (not the model). After a failure (`refused`) the log may be in between
  // the model's states: the entries are not checked against it then, as the storage must refuse
  // before it looks at them.
  Status apply(const Op& op, bool refused = false) {
    switch (op.kind) {
      case Kind::kAppend:
      case Kind::kHardState:
      case Kind::kInstallSnapshot: {
        // Wal::append asserts that entries continue the log: fail the property instead of aborting.
        if (!refused && !op.ready.entries.empty() && !op.ready.snapshot &&
            op.ready.entries.front().index > storage_->wal().last_index() + 1) {
          fail("the log ends at " + std::to_string(storage_->wal().last_index()) + ", before " +
               describe(op.ready.entries.front()));
        }
        const HardState& now = model().hard_state;
        bool commit_only = op.ready.entries.empty() && !op.ready.snapshot && op.ready.hard_state &&
                           op.ready.hard_state->term == now.term && op.ready.hard_state->vote == now.vote;
        Status status = storage_->persist(op.ready);
        if (status.is_ok() && !refused) {
          if (commit_only) {
            unsynced_ = true;
          } else {
            unsynced_ = false;
            synced_commit_ = op.ready.hard_state ? op.ready.hard_state->commit : now.commit;
          }
        }
        return status;
      }
      case Kind::kSaveSnapshot: {
        if (!op.snapshot) return Status::ok();
        Status status = storage_->save_snapshot(op.snapshot);
        if (status.is_ok() && !refused) {
          unsynced_ = false;
          synced_commit_ = model().hard_state.commit;
        }
        return status;
      }
      case Kind::kReopen:
      case Kind::kCrash: break;
    }
    SYNOD_ASSERT_MSG(false, "reopen and crash are not storage calls");
    return Status::ok();
  }

  // A batch that only moves the commit index is written without an fsync (storage/wal.cc: the commit
  // index can be relearned), so a crash may lose it, or leave it torn. `state` as a crash may legitimately
  // bring it back: the same, except for a commit index anywhere from the last synced one up to its own.
  DurableState as_after_crash(const DurableState& state, const DurableState& recovered) const {
    DurableState want = state;
    const HardState& got = recovered.hard_state;
    if (unsynced_ && got.term == state.hard_state.term && got.vote == state.hard_state.vote &&
        got.commit >= std::min(synced_commit_, state.hard_state.commit) &&
        got.commit <= state.hard_state.commit) {
      want.hard_state.commit = got.commit;
    }
    return want;
  }
  // Whether recovery may have had an unsynced tail to repair.
  bool unsynced() const { return unsynced_; }
  // After a recovery from a crash the disk holds `recovered`, all of it durable: the model follows. (A
  // clean reopen loses nothing, and what was unsynced before it still is.)
  void settle(const DurableState& recovered, bool crashed) {
    if (!crashed) return;
    if (!(recovered.hard_state == model().hard_state)) {
      Ready ready;
      ready.hard_state = recovered.hard_state;
      SYNOD_ASSERT(model_.persist(ready).is_ok());
    }
    unsynced_ = false;
    synced_commit_ = recovered.hard_state.commit;
  }

  // The log holds exactly the model's entries after the model's snapshot, and reads them back.
  std::string check_log(const DurableState& want) {
    Wal& wal = storage_->wal();
    Index base = snapshot_index(want);
    Index last = last_index(want);
    if (wal.last_index() != last) {
      return "the log's last index is " + std::to_string(wal.last_index()) + ", want " + std::to_string(last);
    }
    if (wal.first_index() > base + 1) {
      return "the log starts at " + std::to_string(wal.first_index()) + ", after the snapshot at " +
             std::to_string(base);
    }
    Result<std::vector<Entry>> read = wal.read(base + 1, last + 1);
    if (!read.is_ok()) {
      return "reading " + std::to_string(base + 1) + "-" + std::to_string(last) +
             " failed: " + read.status().to_string();
    }
    std::string diff = diff_entries(read.value(), want.entries);
    return diff.empty() ? diff : "the log reads back wrong: " + diff;
  }

 private:
  FaultyFileSystem fs_;
  DiskStorageOptions options_;
  std::unique_ptr<DiskStorage> storage_;
  sim::DurableStore model_;
  std::string transcript_;
  bool unsynced_ = false;    // a commit-only batch was written since the last synced one
  Index synced_commit_ = 0;  // the commit index as of the last synced batch
};

std::string join_notes(const std::vector<std::string>& notes) {
  std::string out;
  for (const std::string& n : notes) out += "\n    note: " + n;
  return out;
}

rc::Gen<uint64_t> segment_bytes_gen() {
  return rc::gen::element<uint64_t>(1024, 2048, 4096);
}
rc::Gen<std::vector<Intent>> intents_gen(int max_ops) {
  return rc::gen::resize(max_ops, rc::gen::container<std::vector<Intent>>(intent_gen()));
}

// Property 1: no disk faults. Every call succeeds and every restart recovers the model exactly.
void agrees_with_the_model() {
  const uint64_t segment_bytes = *segment_bytes_gen();
  const std::vector<Intent> intents = *intents_gen(60);
  Harness h(segment_bytes);
  DurableState recovered;
  std::vector<std::string> notes;
  Status opened = h.open(recovered, notes);
  if (!opened.is_ok()) h.fail("the first open: " + opened.to_string());

  size_t rotations = 0;
  for (size_t i = 0; i < intents.size(); ++i) {
    Op op = concretize(intents[i], h.model(), i + 1);
    h.note_op(i + 1, op.text);
    if (op.kind == Kind::kReopen || op.kind == Kind::kCrash) {
      h.close();
      if (op.kind == Kind::kCrash) {
        Random random(op.seed);
        h.fs().crash(random);
      }
      notes.clear();
      Status status = h.open(recovered, notes);
      if (!status.is_ok()) h.fail("recovery: " + status.to_string() + join_notes(notes));
      std::string diff = diff_states(recovered, h.as_after_crash(h.model(), recovered));
      if (!diff.empty()) {
        h.fail("the recovered state differs from the model: " + diff + "\n    model: " + describe(h.model()) +
               "\n    recovered: " + describe(recovered) + join_notes(notes));
      }
      if (!notes.empty() && !h.unsynced())
        h.fail("recovery repaired something after acknowledged operations:" + join_notes(notes));
      RC_CLASSIFY(!(recovered.hard_state == h.model().hard_state), "a crash lost an unsynced commit");
      h.settle(recovered, op.kind == Kind::kCrash);
    } else {
      size_t segments = h.storage()->wal().segment_count();
      Status status = h.apply(op);
      if (!status.is_ok()) h.fail("the storage refused it: " + status.to_string());
      SYNOD_ASSERT((op.snapshot ? h.model_store().save_snapshot(op.snapshot)
                                : (op.ready.empty() ? Status::ok() : h.model_store().persist(op.ready)))
                       .is_ok());
      if (h.storage()->wal().segment_count() != segments) ++rotations;
    }
    std::string log = h.check_log(h.model());
    if (!log.empty()) h.fail(log + "\n    model: " + describe(h.model()));
  }
  RC_CLASSIFY(rotations > 0, "segments rotated or released");
  RC_CLASSIFY(snapshot_index(h.model()) > 0, "ends with a snapshot");
  RC_TAG(intents.size() < 20 ? "< 20 ops" : intents.size() < 40 ? "20-39 ops" : "40-60 ops");
}

// ---------------------------------------------------------------------------------------------------
// Property 2: disk faults.

enum class FaultKind : uint8_t { kWrite, kSync, kSyncDir, kRandom, kSpace };

struct FaultPlan {
  FaultKind kind = FaultKind::kWrite;
  uint64_t count = 0;  // kWrite/kSync/kSyncDir: calls that proceed first; kSpace: bytes of room
  uint64_t seed = 0;   // kRandom: the failures' seed; every kind: the crash's
  uint32_t rate = 0;   // kRandom: per million writes and syncs

  std::string describe() const {
    switch (kind) {
      case FaultKind::kWrite: return "fail_after(write, " + std::to_string(count) + ")";
      case FaultKind::kSync: return "fail_after(sync, " + std::to_string(count) + ")";
      case FaultKind::kSyncDir: return "fail_after(sync_dir, " + std::to_string(count) + ")";
      case FaultKind::kRandom:
        return "set_random_failures(seed " + std::to_string(seed) + ", " + std::to_string(rate) + "/M)";
      case FaultKind::kSpace: return "space limit: used + " + std::to_string(count) + " bytes";
    }
    return "?";
  }
  void arm(FaultyFileSystem& fs) const {
    switch (kind) {
      case FaultKind::kWrite: fs.fail_after(FaultOp::kWrite, count); break;
      case FaultKind::kSync: fs.fail_after(FaultOp::kSync, count); break;
      case FaultKind::kSyncDir: fs.fail_after(FaultOp::kSyncDir, count); break;
      case FaultKind::kRandom: fs.set_random_failures(Random(seed), rate, rate); break;
      case FaultKind::kSpace: fs.set_space_limit(fs.used_bytes() + count); break;
    }
  }
  static void disarm(FaultyFileSystem& fs) {
    constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
    fs.fail_after(FaultOp::kWrite, kNever);
    fs.fail_after(FaultOp::kSync, kNever);
    fs.fail_after(FaultOp::kSyncDir, kNever);
    fs.set_random_failures(Random(0), 0, 0);
    fs.clear_space_limit();
  }
};

void showValue(const FaultPlan& plan, std::ostream& os) {
  os << plan.describe();
}

rc::Gen<FaultPlan> fault_gen() {
  return rc::gen::resize(
      100,
      rc::gen::map(rc::gen::tuple(rc::gen::weightedElement<FaultKind>({{3, FaultKind::kWrite},
                                                                       {3, FaultKind::kSync},
                                                                       {2, FaultKind::kSyncDir},
                                                                       {3, FaultKind::kRandom},
                                                                       {1, FaultKind::kSpace}}),
                                  rc::gen::inRange<uint64_t>(0, 40), rc::gen::inRange<uint64_t>(0, 1000000),
                                  rc::gen::inRange<uint32_t>(20000, 200000)),
                   [](const std::tuple<FaultKind, uint64_t, uint64_t, uint32_t>& t) {
                     FaultPlan plan;
                     plan.kind = std::get<0>(t);
                     plan.count = std::get<1>(t);
                     if (plan.kind == FaultKind::kSpace) plan.count *= 256;
                     plan.seed = std::get<2>(t);
                     plan.rate = std::get<3>(t);
                     return plan;
                   }));
}

void survives_disk_faults() {
  const uint64_t segment_bytes = *segment_bytes_gen();
  const std::vector<Intent> intents = *intents_gen(50);
  const FaultPlan plan = *fault_gen();
  Harness h(segment_bytes);
  DurableState recovered;
  std::vector<std::string> notes;
  Status opened = h.open(recovered, notes);
  if (!opened.is_ok()) h.fail("the first open: " + opened.to_string());
  h.note("faults: " + plan.describe());
  plan.arm(h.fs());

  std::optional<size_t> failed;  // the operation that failed
  DurableState before;
  DurableState after;
  for (size_t i = 0; i < intents.size() && !failed; ++i) {
    Op op = concretize(intents[i], h.model(), i + 1);
    h.note_op(i + 1, op.text);
    before = h.model();
    uint64_t injected = h.fs().stats().injected_failures;
    Status status;
    if (op.kind == Kind::kReopen || op.kind == Kind::kCrash) {
      h.close();
      if (op.kind == Kind::kCrash) {
        Random random(op.seed);
        h.fs().crash(random);
      }
      notes.clear();
      status = h.open(recovered, notes);
      if (status.is_ok()) {
        std::string diff = diff_states(recovered, h.as_after_crash(h.model(), recovered));
        if (!diff.empty()) h.fail("the recovered state differs from the model: " + diff + join_notes(notes));
        h.settle(recovered, op.kind == Kind::kCrash);
      }
    } else {
      status = h.apply(op);
      SYNOD_ASSERT((op.snapshot ? h.model_store().save_snapshot(op.snapshot)
                                : (op.ready.empty() ? Status::ok() : h.model_store().persist(op.ready)))
                       .is_ok());
    }
    after = h.model();
    bool injected_now = h.fs().stats().injected_failures != injected;
    if (status.is_ok()) {
      if (injected_now) h.fail("acknowledged although the disk failed under it");
      std::string log = h.check_log(h.model());
      if (!log.empty()) h.fail(log + "\n    model: " + describe(h.model()));
      continue;
    }
    if (!injected_now && plan.kind != FaultKind::kSpace) {
      h.fail("failed without an injected fault: " + status.to_string());
    }
    h.note("   -> " + status.to_string());
    RC_TAG(std::string("failed in ") + kind_name(op.kind));
    failed = i;
  }
  RC_CLASSIFY(!failed, "no fault hit");

  if (failed && h.storage() != nullptr) {
    // Every later call is refused: the operations that were left, as if the failed one had not
    // happened, and a few probes.
    std::vector<Op> later;
    for (size_t j = *failed + 1; j < intents.size(); ++j) {
      Op op = concretize(intents[j], before, j + 1);
      bool calls_storage = op.kind != Kind::kReopen && op.kind != Kind::kCrash &&
                           !(op.kind == Kind::kSaveSnapshot && !op.snapshot);
      if (calls_storage) later.push_back(op);
    }
    Op probe_hs;
    probe_hs.kind = Kind::kHardState;
    probe_hs.ready.hard_state = before.hard_state;
    probe_hs.text = "probe: the acknowledged hard state again";
    later.push_back(probe_hs);
    Op probe_append = concretize(Intent{}, before, intents.size() + 1);
    probe_append.text = "probe: " + probe_append.text;
    later.push_back(probe_append);
    Op probe_snapshot = concretize(Intent{Kind::kSaveSnapshot, {}}, before, intents.size() + 2);
    probe_snapshot.text = "probe: " + probe_snapshot.text;
    if (probe_snapshot.snapshot) later.push_back(probe_snapshot);
    for (const Op& op : later) {
      Status status = h.apply(op, true);
      if (status.is_ok()) h.fail("after the failure the storage accepted: " + op.text);
    }
  }

  // Power cut and restart, without faults.
  FaultPlan::disarm(h.fs());
  h.close();
  Random random(plan.seed);
  h.fs().crash(random);
  notes.clear();
  Status status = h.open(recovered, notes);
  if (!status.is_ok()) h.fail("recovery after the fault: " + status.to_string() + join_notes(notes));
  if (failed) {
    before = h.as_after_crash(before, recovered);
    after = h.as_after_crash(after, recovered);
    std::string mismatch = explain_mismatch(recovered, before, after);
    if (!mismatch.empty()) {
      h.fail("recovered after the failure of operation " + std::to_string(*failed + 1) + ": " + mismatch +
             "\n    before: " + describe(before) + "\n    after: " + describe(after) +
             "\n    recovered: " + describe(recovered) + join_notes(notes));
    }
    bool as_before = diff_states(recovered, before).empty();
    bool as_after = diff_states(recovered, after).empty();
    RC_CLASSIFY(as_before && !as_after, "recovered the state before");
    RC_CLASSIFY(as_after && !as_before, "recovered the state after");
    RC_CLASSIFY(!as_before && !as_after, "recovered a state in between");
  } else {
    std::string diff = diff_states(recovered, h.as_after_crash(h.model(), recovered));
    if (!diff.empty()) h.fail("recovered without a fault: " + diff + join_notes(notes));
  }

  // The recovered log takes new appends and keeps them.
  Index next = last_index(recovered) + 1;
  Op more;
  more.kind = Kind::kAppend;
  Term term = recovered.hard_state.term + 1;
  more.ready.entries = make_entries(next, 2, term, 40, intents.size() + 10);
  more.ready.hard_state = HardState{term, 0, recovered.hard_state.commit};
  more.text = "after recovery: append " + describe_append(more.ready, next - 1);
  h.note(more.text);
  status = h.apply(more);
  if (!status.is_ok()) h.fail("the recovered storage refused an append: " + status.to_string());
  DurableState want = recovered;
  want.entries.insert(want.entries.end(), more.ready.entries.begin(), more.ready.entries.end());
  want.hard_state = *more.ready.hard_state;
  std::string log = h.check_log(want);
  if (!log.empty()) h.fail(log);
  h.close();
  notes.clear();
  status = h.open(recovered, notes);
  if (!status.is_ok()) h.fail("the second recovery: " + status.to_string() + join_notes(notes));
  std::string diff = diff_states(recovered, want);
  if (!diff.empty()) h.fail("the second recovery: " + diff + join_notes(notes));
}

// ---------------------------------------------------------------------------------------------------

using testing_support::expect_success;

template <typename Property>
rc::detail::TestResult check(const std::string& id, int cases, uint64_t seed, Property property) {
  return testing_support::check_property(id, cases, seed, property);
}

// Runs `property` for 300 cases with `seed` and says how long it took.
template <typename Property>
void run_cases(const std::string& id, uint64_t seed, Property property) {
  constexpr int kCases = 300;
  auto start = std::chrono::steady_clock::now();
  expect_success(check(id, kCases, seed, property), kCases);
  std::cout << kCases << " cases in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
                   .count()
            << " ms\n";
}

TEST(WalModelProperty, agreesWithTheModelThroughRestartsAndCrashes) {
  run_cases("wal-model", 2024, agrees_with_the_model);
}

TEST(WalModelProperty, refusesEverythingAfterADiskFaultAndRecoversBeforeOrAfterIt) {
  run_cases("wal-model-faults", 4048, survives_disk_faults);
}

}  // namespace
}  // namespace synod::storage
