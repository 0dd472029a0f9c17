#include "consensus/state_machine.h"

#include <utility>

namespace synod {
namespace {

// For state machines small enough to encode in one go.
class WholeSnapshotWriter final : public SnapshotWriter {
 public:
  WholeSnapshotWriter(Index index, std::string data) : index_(index), data_(std::move(data)) {}
  Index index() const override { return index_; }
  bool write_some(size_t /*budget*/) override { return true; }
  std::string drain() override { return std::exchange(data_, {}); }

 private:
  Index index_;
  std::string data_;
};

}  // namespace

std::unique_ptr<SnapshotWriter> StateMachine::begin_snapshot() {
  return std::make_unique<WholeSnapshotWriter>(applied_index(), snapshot());
}

}  // namespace synod
