// KeyIndex: the history of every key, as the MVCC store (kv/mvcc_store.h) keeps it between compactions.
// Each key holds its versions oldest first; a read at revision R sees, per key, the newest record at or
// before R, and a tombstone there means the key was absent. Values live inline in the records, so one
// lookup answers a historical read (etcd splits this into an index and a revision-keyed database; Synod
// keeps everything in memory and has no need to).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace synod::kv {

struct Revision {
  int64_t main = 0;  // the store's revision: one per write request (all writes of a txn share it)
  int64_t sub = 0;   // the order of the writes within it
  auto operator<=>(const Revision&) const = default;
};

// One version of a key: what reads see from `revision` until the key's next record.
struct KeyRecord {
  Revision revision;
  int64_t create_revision = 0;  // 0 in a tombstone
  int64_t version = 0;          // 1 at creation, +1 per put; 0 in a tombstone
  int64_t lease = 0;
  std::string value;

  bool tombstone() const { return version == 0; }
  bool operator==(const KeyRecord&) const = default;
};

// The keys an etcd request names with its (key, range_end) pair.
struct KeyRange {
  enum class Kind : uint8_t {
    kSingle,   // range_end empty: just `begin`
    kFromKey,  // range_end "\0": every key >= begin
    kRange,    // [begin, end)
  };
  Kind kind = Kind::kSingle;
  std::string begin;
  std::string end;

  static KeyRange of(std::string_view key, std::string_view range_end);
  bool contains(std::string_view key) const;
};

// A key live at the revision read. Both pointers stay valid until the index next changes.
struct KeyView {
  const std::string* key = nullptr;
  const KeyRecord* record = nullptr;
};

class KeyIndex {
 public:
  // The record a read at `at` sees, or nullptr if the key was absent then.
  const KeyRecord* get(std::string_view key, int64_t at) const;
  // The keys in `range` live at `at`, in ascending byte order.
  std::vector<KeyView> range(const KeyRange& range, int64_t at) const;

  // Records a put at `revision`, which must be newer than every record of the key. The version and
  // create revision follow from the key's newest record.
  const KeyRecord& put(std::string_view key, Revision revision, std::string value, int64_t lease);
  // Records a delete at `revision` if the key is live; returns whether it was.
  bool remove(std::string_view key, Revision revision);
  // Takes back the key's records at main revision `main`: a write request that failed half way is
  // rolled back so that it has no effect at all.
  void undo(std::string_view key, int64_t main);
  // Forgets every record that no read at `at` or later can see.
  void compact(int64_t at);

  // A key's records, oldest first (empty if the key has none): what watches replay (kv/watch_history.h).
  std::span<const KeyRecord> history(std::string_view key) const;
  // Calls `visit(key, records)` for every key in `range` that has records, in ascending key order.
  template <typename Visit>
  void for_each_history(const KeyRange& range, Visit&& visit) const {
    if (range.kind == KeyRange::Kind::kSingle) {
      if (auto found = keys_.find(range.begin); found != keys_.end()) {
        visit(found->first, std::span<const KeyRecord>(found->second));
      }
      return;
    }
    for (auto it = keys_.lower_bound(range.begin); it != keys_.end() && range.contains(it->first); ++it) {
      visit(it->first, std::span<const KeyRecord>(it->second));
    }
  }

  size_t key_count() const { return keys_.size(); }
  size_t record_count() const { return record_count_; }
  // What the index holds in memory, roughly (see the estimate in kv/mvcc_store.h).
  size_t approximate_bytes() const;

  // Deterministic: keys in order, each with its records oldest first.
  void encode(ByteWriter& out) const;

  // The same encoding a slice at a time, of the index as it was at revision `upto` while later writes
  // go on (kv/mvcc_snapshot_writer.h). Sound as long as no record at or below `upto` is dropped, which
  // only compaction does: such records are then a fixed prefix of each key's history, and a key that
  // has none was created later and is left out.
  struct EncodeCursor {
    std::string last_key;  // the last key written, once `started`
    bool started = false;
    bool done = false;
  };
  // The count encode() starts with. Call it when no record is above `upto` yet.
  void encode_key_count(ByteWriter& out) const { out.put_varint(keys_.size()); }
  // Writes the keys after the cursor until about `budget` bytes were added or the index ends (`done`).
  void encode_slice(ByteWriter& out, int64_t upto, EncodeCursor& cursor, size_t budget) const;
  // Fills an empty index from what encode() wrote. Every invariant the index relies on is checked
  // (records in order, no revision above `max_revision`, versions and create revisions consistent), so
  // a bad snapshot is refused here rather than tripping an assertion later.
  Status decode(ByteReader& in, int64_t max_revision);

 private:
  using History = std::vector<KeyRecord>;  // oldest first; never starts with a tombstone

  std::map<std::string, History, std::less<>> keys_;
  size_t record_count_ = 0;
  size_t payload_bytes_ = 0;  // key bytes (once per key) and value bytes (per record)
};

}  // namespace synod::kv
