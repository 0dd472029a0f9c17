#include "sim/power_cut_file_system.h"

namespace synod::sim {
namespace {

class PowerCutFile final : public storage::File {
 public:
  PowerCutFile(PowerCutFileSystem& fs, std::unique_ptr<storage::File> inner)
      : fs_(fs), inner_(std::move(inner)) {}

  Status write_at(uint64_t offset, std::string_view data) override {
    if (fs_.pass()) return inner_->write_at(offset, data);
    // The write reached the page cache just before the power went: the crash decides what of it
    // reaches the disk.
    (void)inner_->write_at(offset, data);
    return fs_.power_is_off();
  }
  Result<std::string> read_at(uint64_t offset, size_t length) override {
    if (fs_.cut()) return fs_.power_is_off();
    return inner_->read_at(offset, length);
  }
  Status sync() override { return fs_.pass() ? inner_->sync() : fs_.power_is_off(); }
  Status truncate(uint64_t size) override { return fs_.pass() ? inner_->truncate(size) : fs_.power_is_off(); }
  Status preallocate(uint64_t size) override {
    return fs_.pass() ? inner_->preallocate(size) : fs_.power_is_off();
  }
  Result<uint64_t> size() override {
    if (fs_.cut()) return fs_.power_is_off();
    return inner_->size();
  }

 private:
  PowerCutFileSystem& fs_;
  std::unique_ptr<storage::File> inner_;
};

}  // namespace

bool PowerCutFileSystem::pass() {
  ++mutations_;
  return mutations_ < cut_at_;
}

Status PowerCutFileSystem::power_is_off() const {
  return Status(ErrorCode::kIoError, "the power was cut");
}

Result<std::unique_ptr<storage::File>> PowerCutFileSystem::open(const std::string& path,
                                                                storage::OpenMode mode) {
  bool mutating = mode == storage::OpenMode::kCreateNew;
  if (mutating ? !pass() : cut()) return power_is_off();
  Result<std::unique_ptr<storage::File>> file = inner_.open(path, mode);
  if (!file.is_ok()) return file;
  return std::unique_ptr<storage::File>(std::make_unique<PowerCutFile>(*this, std::move(file).value()));
}

Status PowerCutFileSystem::remove(const std::string& path) {
  return pass() ? inner_.remove(path) : power_is_off();
}

Status PowerCutFileSystem::rename(const std::string& from, const std::string& to) {
  return pass() ? inner_.rename(from, to) : power_is_off();
}

Result<std::vector<std::string>> PowerCutFileSystem::list(const std::string& dir) {
  if (cut()) return power_is_off();
  return inner_.list(dir);
}

Status PowerCutFileSystem::make_dirs(const std::string& dir) {
  if (cut()) return power_is_off();
  return inner_.make_dirs(dir);
}

Status PowerCutFileSystem::sync_dir(const std::string& dir) {
  return pass() ? inner_.sync_dir(dir) : power_is_off();
}

}  // namespace synod::sim
