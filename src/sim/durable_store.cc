#include "sim/durable_store.h"

#include <string>

#include "base/assert.h"

namespace synod::sim {

Status DurableStore::persist(const Ready& ready) {
  if (ready.snapshot) {
    // An installed snapshot replaces the whole log.
    state_.snapshot = ready.snapshot;
    state_.entries.clear();
  }
  if (!ready.entries.empty()) {
    Index first = ready.entries.front().index;
    Index base = state_.snapshot ? state_.snapshot->meta.index : 0;
    SYNOD_ASSERT_MSG(first > base, "entries covered by the snapshot are never persisted again");
    SYNOD_ASSERT_MSG(first <= base + state_.entries.size() + 1, "persisted entries leave a gap");
    state_.entries.resize(first - base - 1);
    state_.entries.insert(state_.entries.end(), ready.entries.begin(), ready.entries.end());
  }
  if (ready.hard_state) state_.hard_state = *ready.hard_state;
  return Status::ok();
}

Status DurableStore::save_snapshot(SnapshotPtr snapshot) {
  SYNOD_ASSERT(snapshot != nullptr);
  Index base = state_.snapshot ? state_.snapshot->meta.index : 0;
  Index index = snapshot->meta.index;
  SYNOD_ASSERT(index > base && index <= base + state_.entries.size());
  state_.entries.erase(state_.entries.begin(),
                       state_.entries.begin() + static_cast<std::ptrdiff_t>(index - base));
  state_.snapshot = std::move(snapshot);
  return Status::ok();
}

Index DurableStore::reloadable_snapshot_index() const {
  return state_.snapshot ? state_.snapshot->meta.index : 0;
}

Result<SnapshotPtr> DurableStore::reload_snapshot(const SnapshotMeta& meta) {
  if (!state_.snapshot || state_.snapshot->meta != meta) {
    return Status(ErrorCode::kNotFound, "no snapshot at index " + std::to_string(meta.index));
  }
  SYNOD_ASSERT(!state_.snapshot->detached);
  return state_.snapshot;
}

}  // namespace synod::sim
