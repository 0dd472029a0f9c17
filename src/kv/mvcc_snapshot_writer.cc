#include "kv/mvcc_snapshot_writer.h"

#include <limits>
#include <utility>

#include "base/assert.h"
#include "kv/mvcc_store.h"

namespace synod::kv {

MvccSnapshotWriter::MvccSnapshotWriter(MvccStore& store)
    : store_(&store), index_(store.applied_index()), revision_(store.revision()) {
  SYNOD_ASSERT_MSG(store.writer_ == nullptr, "one snapshot writer at a time");
  store.writer_ = this;
  store.encode_snapshot_head(out_);
  store.index_.encode_key_count(out_);
  ByteWriter tail;
  store.encode_snapshot_tail(tail);
  tail_ = std::move(tail).take();
}

MvccSnapshotWriter::~MvccSnapshotWriter() {
  if (store_ != nullptr) store_->writer_ = nullptr;
}

bool MvccSnapshotWriter::write_some(size_t budget) {
  if (cursor_.done) return true;
  SYNOD_ASSERT_MSG(store_ != nullptr, "the store of an unfinished snapshot is gone");
  store_->index_.encode_slice(out_, revision_, cursor_, budget);
  if (cursor_.done) out_.put_bytes(tail_);
  return cursor_.done;
}

void MvccSnapshotWriter::finish() {
  write_some(std::numeric_limits<size_t>::max());
}

std::string MvccSnapshotWriter::drain() {
  std::string bytes = std::move(out_).take();
  out_ = ByteWriter();
  return bytes;
}

}  // namespace synod::kv
