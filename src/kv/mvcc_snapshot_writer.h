// MvccSnapshotWriter: the MVCC store's snapshot (kv/mvcc_store.h), encoded a slice at a time while the
// store goes on applying writes, so that encoding a store of hundreds of megabytes never holds the node
// loop (and every client behind it) for the whole of it.
//
// Why it stays a snapshot of the state when it began, at revision R: every write after R only appends
// records above R to a key's history (or takes back its own, on a failed txn), so the records at or
// below R stay a fixed prefix of each history, and a key with none was created later. The slices skip
// both. The key count is fixed at the start (every key then has records at or below R). Leases,
// alarms and members are small and encoded at the start. Only a compaction drops records at or below
// R, and a restore replaces everything: the store finishes the writer, in one go, before either.
// Compactions are rare, and finishing first keeps every member's snapshot a function of its log alone.
#pragma once

#include <cstddef>
#include <string>

#include "base/bytes.h"
#include "consensus/state_machine.h"
#include "kv/mvcc_key_index.h"

namespace synod::kv {

class MvccStore;

class MvccSnapshotWriter final : public SnapshotWriter {
 public:
  // Registers itself with `store`, which may have one writer at a time.
  explicit MvccSnapshotWriter(MvccStore& store);
  ~MvccSnapshotWriter() override;
  MvccSnapshotWriter(const MvccSnapshotWriter&) = delete;
  MvccSnapshotWriter& operator=(const MvccSnapshotWriter&) = delete;

  Index index() const override { return index_; }
  bool write_some(size_t budget) override;
  std::string drain() override;

  bool done() const { return cursor_.done; }
  // Encodes everything left: before the store changes in a way the slices cannot skip.
  void finish();

 private:
  friend class MvccStore;

  MvccStore* store_;  // nullptr once the store is gone
  Index index_;
  int64_t revision_;
  ByteWriter out_;
  std::string tail_;  // what follows the key index, encoded at the start
  KeyIndex::EncodeCursor cursor_;
};

}  // namespace synod::kv
