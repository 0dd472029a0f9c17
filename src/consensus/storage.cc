#include "consensus/storage.h"

#include <utility>

namespace synod {
namespace {

// For storage that keeps snapshots whole (the simulator's memory): gathers the slices, then saves.
class GatheringSink final : public SnapshotSink {
 public:
  GatheringSink(Storage& storage, SnapshotMeta meta) : storage_(storage), meta_(std::move(meta)) {}
  Status append(std::string bytes) override {
    data_ += bytes;
    return Status::ok();
  }
  Status finish() override {
    return storage_.save_snapshot(std::make_shared<const Snapshot>(Snapshot{meta_, std::move(data_)}));
  }

 private:
  Storage& storage_;
  SnapshotMeta meta_;
  std::string data_;
};

}  // namespace

Result<std::unique_ptr<SnapshotSink>> Storage::begin_snapshot(const SnapshotMeta& meta) {
  return std::unique_ptr<SnapshotSink>(std::make_unique<GatheringSink>(*this, meta));
}

}  // namespace synod
