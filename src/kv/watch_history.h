// The events watchers see, built from the MVCC store's key index (kv/mvcc_key_index.h): the events of
// one write as it is applied, and the events of a key range between two revisions, replayed from the
// history the index keeps until compaction.
//
// An event is etcd's mvccpb.Event: a put carries the key's new version; a delete carries the key and
// the deleting revision only. Both carry the key's previous version as prev_kv when it existed (live,
// not a tombstone, and not compacted away); watchers that did not ask for it have it stripped later.
//
// Cost of a replay: every key in the range is visited (one binary search in its records for the first
// record after `after`), then the records found are sorted by revision: O(K log V + E log E) for K keys
// in the range with V records each and E events found. The index has no revision-ordered log, so a
// wide range costs its key count even when few of its keys changed; callers bound E by asking for a
// window of revisions at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/proto/kv.pb.h"
#include "kv/mvcc_key_index.h"

namespace synod::kv {

// The events of one write request (one revision), in the order it made them: a txn's writes stay
// together, as etcd delivers them.
struct EventBatch {
  int64_t revision = 0;
  std::vector<mvccpb::Event> events;
};

// The events of the write at `revision` that wrote `keys`, in that order (the key at position i has sub
// revision i), as MvccStore reports a completed write.
EventBatch write_events(const KeyIndex& index, int64_t revision, const std::vector<std::string>& keys);

// The events on keys in `range` with revisions in (after, upto], one batch per revision, oldest first.
// Records compaction dropped are not there: callers check the compact revision first.
std::vector<EventBatch> history_events(const KeyIndex& index, const KeyRange& range, int64_t after,
                                       int64_t upto);

}  // namespace synod::kv
