#include "sim/faulty_file_system.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "base/assert.h"

namespace synod::sim {
namespace {

using Pages = std::map<uint64_t, std::string>;  // page index -> kPageSize bytes; absent pages are zeros

constexpr uint64_t kPageSize = FaultyFileSystem::kPageSize;

std::string& page_at(Pages& pages, uint64_t index) {
  auto [it, inserted] = pages.try_emplace(index);
  if (inserted) it->second.assign(kPageSize, '\0');
  return it->second;
}

// Copies `data` into `pages` at `offset`, calling `touched` with each page index it changes.
void write_range(Pages& pages, uint64_t offset, std::string_view data,
                 const std::function<void(uint64_t)>& touched) {
  while (!data.empty()) {
    uint64_t index = offset / kPageSize;
    uint64_t within = offset % kPageSize;
    size_t chunk = std::min<size_t>(data.size(), kPageSize - within);
    std::memcpy(page_at(pages, index).data() + within, data.data(), chunk);
    if (touched) touched(index);
    data.remove_prefix(chunk);
    offset += chunk;
  }
}

std::string read_range(const Pages& pages, uint64_t offset, size_t length) {
  std::string out(length, '\0');
  size_t done = 0;
  while (done < length) {
    uint64_t index = (offset + done) / kPageSize;
    uint64_t within = (offset + done) % kPageSize;
    size_t chunk = std::min<size_t>(length - done, kPageSize - within);
    auto it = pages.find(index);
    if (it != pages.end()) std::memcpy(out.data() + done, it->second.data() + within, chunk);
    done += chunk;
  }
  return out;
}

// Keeps every byte at or past `size` zero: drops whole pages past it, zeroes the tail of the last.
void cut(Pages& pages, uint64_t size) {
  uint64_t first_dropped = (size + kPageSize - 1) / kPageSize;
  pages.erase(pages.lower_bound(first_dropped), pages.end());
  if (size % kPageSize != 0) {
    auto it = pages.find(size / kPageSize);
    if (it != pages.end())
      std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(size % kPageSize), it->second.end(), '\0');
  }
}

// "dir/name" -> {"dir", "name"}; "name" -> {"", "name"}; "/name" -> {"/", "name"}.
std::pair<std::string, std::string> split_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  std::string dir = path.substr(0, slash);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) dir = "/";
  return {dir, path.substr(slash + 1)};
}

std::string normalize_dir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

Status not_found(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kNotFound, what + " " + path + ": no such file or directory");
}

Status invalid(const std::string& what, const std::string& path, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, what + " " + path + ": " + why);
}

Status injected_io_error(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kIoError, what + " " + path + ": injected I/O error");
}

}  // namespace

struct FaultyFileSystem::Inode {
  uint64_t id = 0;
  // Volatile: what reads see now.
  Pages pages;
  uint64_t size = 0;
  // Pages written since the last sync (always pages inside `size` that are in `pages`).
  std::set<uint64_t> dirty;
  // The smallest size since the last sync: a sync cuts the durable content there before writing the
  // dirty pages back, so a shrink and a regrowth read zeros after a crash too.
  uint64_t shrunk_to = 0;
  // Durable: what survives a crash.
  Pages durable_pages;
  uint64_t durable_size = 0;
};

// A File handle: the inode it opened, and the crash generation it belongs to.
class FaultyFileSystem::Handle final : public storage::File {
 public:
  Handle(FaultyFileSystem& fs, InodePtr inode, std::string path, bool writable)
      : fs_(fs),
        inode_(std::move(inode)),
        path_(std::move(path)),
        writable_(writable),
        generation_(fs.generation_) {}

  Status write_at(uint64_t offset, std::string_view data) override {
    if (Status status = check("write", true); !status.is_ok()) return status;
    return fs_.write(*inode_, path_, offset, data);
  }

  Result<std::string> read_at(uint64_t offset, size_t length) override {
    if (Status status = check("read", false); !status.is_ok()) return status;
    if (offset >= inode_->size) return std::string();
    return read_range(inode_->pages, offset, std::min<uint64_t>(length, inode_->size - offset));
  }

  Status sync() override {
    if (Status status = check("sync", false); !status.is_ok()) return status;
    return fs_.sync(*inode_, path_);
  }

  Status truncate(uint64_t size) override {
    if (Status status = check("truncate", true); !status.is_ok()) return status;
    return fs_.resize(*inode_, path_, size);
  }

  Status preallocate(uint64_t size) override {
    if (Status status = check("preallocate", true); !status.is_ok()) return status;
    if (size <= inode_->size) return Status::ok();  // never shrinks
    return fs_.resize(*inode_, path_, size);
  }

  Result<uint64_t> size() override {
    if (Status status = check("size", false); !status.is_ok()) return status;
    return inode_->size;
  }

 private:
  Status check(const std::string& what, bool writes) const {
    if (generation_ != fs_.generation_) {
      return Status(ErrorCode::kIoError, what + " " + path_ + ": file handle from before a crash");
    }
    if (writes && !writable_) return invalid(what, path_, "the file was opened read-only");
    return Status::ok();
  }

  FaultyFileSystem& fs_;
  InodePtr inode_;
  std::string path_;  // as opened, for messages
  bool writable_;
  uint64_t generation_;
};

FaultyFileSystem::FaultyFileSystem() {
  dirs_[""];
  dirs_["/"];
}

FaultyFileSystem::~FaultyFileSystem() = default;

// ---- the namespace ----

FaultyFileSystem::Directory* FaultyFileSystem::find_dir(const std::string& dir) {
  auto it = dirs_.find(normalize_dir(dir));
  return it == dirs_.end() ? nullptr : &it->second;
}

const FaultyFileSystem::Directory* FaultyFileSystem::find_dir(const std::string& dir) const {
  auto it = dirs_.find(normalize_dir(dir));
  return it == dirs_.end() ? nullptr : &it->second;
}

FaultyFileSystem::InodePtr FaultyFileSystem::find_file(const std::string& path) const {
  auto [dir, name] = split_path(path);
  const Directory* directory = find_dir(dir);
  if (directory == nullptr) return nullptr;
  auto it = directory->entries.find(name);
  return it == directory->entries.end() ? nullptr : it->second;
}

Result<std::unique_ptr<storage::File>> FaultyFileSystem::open(const std::string& path,
                                                              storage::OpenMode mode) {
  auto [dir, name] = split_path(path);
  if (name.empty() || dirs_.contains(path)) return invalid("open", path, "is a directory");
  Directory* directory = find_dir(dir);
  if (directory == nullptr) return not_found("open", path);
  auto it = directory->entries.find(name);
  if (mode == storage::OpenMode::kCreateNew) {
    if (it != directory->entries.end()) return invalid("create", path, "it already exists");
    auto inode = std::make_shared<Inode>();
    inode->id = next_inode_id_++;
    it = directory->entries.emplace(name, std::move(inode)).first;
  } else if (it == directory->entries.end()) {
    return not_found("open", path);
  }
  bool writable = mode != storage::OpenMode::kReadOnly;
  return std::unique_ptr<storage::File>(std::make_unique<Handle>(*this, it->second, path, writable));
}

Status FaultyFileSystem::remove(const std::string& path) {
  if (dirs_.contains(normalize_dir(path))) return invalid("remove", path, "is a directory");
  auto [dir, name] = split_path(path);
  Directory* directory = find_dir(dir);
  if (directory == nullptr || directory->entries.erase(name) == 0) return not_found("remove", path);
  return Status::ok();
}

Status FaultyFileSystem::rename(const std::string& from, const std::string& to) {
  if (dirs_.contains(normalize_dir(from)) || dirs_.contains(normalize_dir(to))) {
    return invalid("rename to " + to + " from", from, "directories cannot be renamed here");
  }
  auto [from_dir, from_name] = split_path(from);
  auto [to_dir, to_name] = split_path(to);
  Directory* source = find_dir(from_dir);
  Directory* target = find_dir(to_dir);
  if (source == nullptr || !source->entries.contains(from_name) || target == nullptr || to_name.empty()) {
    return not_found("rename to " + to + " from", from);
  }
  if (from == to) return Status::ok();
  InodePtr inode = source->entries.at(from_name);
  source->entries.erase(from_name);
  target->entries[to_name] = std::move(inode);
  return Status::ok();
}

Result<std::vector<std::string>> FaultyFileSystem::list(const std::string& dir) {
  const Directory* directory = find_dir(dir);
  if (directory == nullptr) return not_found("list", dir);
  std::vector<std::string> names(directory->subdirs.begin(), directory->subdirs.end());
  for (const auto& [name, inode] : directory->entries) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

Status FaultyFileSystem::make_dirs(const std::string& dir) {
  std::string path = normalize_dir(dir);
  if (dirs_.contains(path)) return Status::ok();
  if (find_file(path) != nullptr) return invalid("create directory", dir, "a file has that name");
  auto [parent, name] = split_path(path);
  if (Status status = make_dirs(parent); !status.is_ok()) return status;
  dirs_[path];
  if (!name.empty()) dirs_.at(parent).subdirs.insert(name);  // "a/" -> "a", never an empty name
  return Status::ok();
}

Status FaultyFileSystem::sync_dir(const std::string& dir) {
  Directory* directory = find_dir(dir);
  if (directory == nullptr) return not_found("sync directory", dir);
  if (inject_failure(FaultOp::kSyncDir)) return injected_io_error("sync directory", dir);
  directory->synced_entries = directory->entries;
  ++stats_.sync_dirs;
  return Status::ok();
}

bool FaultyFileSystem::exists(const std::string& path) {
  return dirs_.contains(normalize_dir(path)) || find_file(path) != nullptr;
}

// ---- file content ----

Status FaultyFileSystem::write(Inode& inode, const std::string& path, uint64_t offset,
                               std::string_view data) {
  if (data.size() > std::numeric_limits<uint64_t>::max() - offset) {
    return invalid("write", path, "offset and length overflow");
  }
  if (inject_failure(FaultOp::kWrite)) return injected_io_error("write", path);
  uint64_t end = offset + data.size();
  if (data.empty()) end = inode.size;  // an empty write never extends the file
  uint64_t new_size = std::max(inode.size, end);
  if (Status status = check_space(inode, new_size, path); !status.is_ok()) return status;
  write_range(inode.pages, offset, data, [&](uint64_t index) { inode.dirty.insert(index); });
  inode.size = new_size;
  ++stats_.writes;
  stats_.bytes_written += data.size();
  return Status::ok();
}

Status FaultyFileSystem::resize(Inode& inode, const std::string& path, uint64_t size) {
  if (Status status = check_space(inode, size, path); !status.is_ok()) return status;
  if (size < inode.size) {
    cut(inode.pages, size);
    uint64_t first_dropped = (size + kPageSize - 1) / kPageSize;
    inode.dirty.erase(inode.dirty.lower_bound(first_dropped), inode.dirty.end());
    inode.shrunk_to = std::min(inode.shrunk_to, size);
  }
  inode.size = size;
  return Status::ok();
}

Status FaultyFileSystem::sync(Inode& inode, const std::string& path) {
  if (inject_failure(FaultOp::kSync)) {
    // fsyncgate: the kernel reports the error once and forgets the pages were never written.
    inode.dirty.clear();
    return injected_io_error("sync", path);
  }
  cut(inode.durable_pages, inode.shrunk_to);
  for (uint64_t index : inode.dirty) {
    auto it = inode.pages.find(index);
    SYNOD_ASSERT_MSG(it != inode.pages.end(), "a dirty page is always in the volatile content");
    inode.durable_pages[index] = it->second;
  }
  inode.dirty.clear();
  inode.durable_size = inode.size;
  inode.shrunk_to = inode.size;
  ++stats_.syncs;
  return Status::ok();
}

Status FaultyFileSystem::check_space(const Inode& inode, uint64_t new_size, const std::string& path) const {
  if (!space_limit_ || new_size <= inode.size) return Status::ok();
  uint64_t used = used_bytes();
  uint64_t growth = new_size - inode.size;
  if (used > *space_limit_ || growth > *space_limit_ - used) {
    return Status(ErrorCode::kNoSpace, "grow " + path + " to " + std::to_string(new_size) +
                                           " bytes: no space left on device (limit " +
                                           std::to_string(*space_limit_) + ")");
  }
  return Status::ok();
}

uint64_t FaultyFileSystem::used_bytes() const {
  std::set<uint64_t> counted;
  uint64_t used = 0;
  for (const auto& [path, directory] : dirs_) {
    for (const auto& [name, inode] : directory.entries) {
      if (counted.insert(inode->id).second) used += inode->size;
    }
  }
  return used;
}

// ---- faults ----

void FaultyFileSystem::set_space_limit(uint64_t bytes) {
  space_limit_ = bytes;
}

void FaultyFileSystem::clear_space_limit() {
  space_limit_.reset();
}

void FaultyFileSystem::fail_after(FaultOp op, uint64_t count) {
  fail_countdown_.at(static_cast<size_t>(op)) = count;
}

void FaultyFileSystem::set_random_failures(Random random, uint32_t write_per_million,
                                           uint32_t sync_per_million) {
  if (write_per_million == 0 && sync_per_million == 0) {
    random_failures_.reset();
    return;
  }
  random_failures_ = RandomFailures{random, write_per_million, sync_per_million};
}

bool FaultyFileSystem::inject_failure(FaultOp op) {
  bool fail = false;
  std::optional<uint64_t>& countdown = fail_countdown_.at(static_cast<size_t>(op));
  if (countdown) {
    if (*countdown == 0) {
      fail = true;
      countdown.reset();
    } else {
      --*countdown;
    }
  }
  if (random_failures_) {
    uint32_t rate =
        op == FaultOp::kWrite ? random_failures_->write_per_million : random_failures_->sync_per_million;
    if (rate > 0 && random_failures_->random.chance(rate, 1'000'000)) fail = true;
  }
  if (fail) ++stats_.injected_failures;
  return fail;
}

Status FaultyFileSystem::flip_bit(const std::string& path, uint64_t offset, uint32_t bit) {
  InodePtr inode = find_file(path);
  if (inode == nullptr) return not_found("flip a bit of", path);
  if (bit >= 8) return invalid("flip a bit of", path, "bit " + std::to_string(bit) + " is not in a byte");
  if (offset >= inode->size) return invalid("flip a bit of", path, "offset past the end of the file");
  auto flip = [&](Pages& pages) {
    char& byte = page_at(pages, offset / kPageSize)[offset % kPageSize];
    byte = static_cast<char>(static_cast<unsigned char>(byte) ^ (1U << bit));
  };
  flip(inode->pages);
  if (offset < inode->durable_size) flip(inode->durable_pages);
  return Status::ok();
}

// ---- inspection ----

Result<std::string> FaultyFileSystem::contents(const std::string& path) const {
  InodePtr inode = find_file(path);
  if (inode == nullptr) return not_found("read", path);
  return read_range(inode->pages, 0, inode->size);
}

Result<std::string> FaultyFileSystem::durable_contents(const std::string& path) const {
  InodePtr inode = find_file(path);
  if (inode == nullptr) return not_found("read", path);
  return read_range(inode->durable_pages, 0, inode->durable_size);
}

// ---- crashes ----

std::vector<FaultyFileSystem::DirtyRef> FaultyFileSystem::dirty_refs() const {
  // Each inode a crash could leave behind, under its first volatile name, else its first synced one.
  std::map<uint64_t, std::pair<std::string, InodePtr>> named;  // by inode id
  for (bool synced : {false, true}) {
    for (const auto& [dir, directory] : dirs_) {
      for (const auto& [name, inode] : synced ? directory.synced_entries : directory.entries) {
        named.try_emplace(inode->id, storage::join_path(dir, name), inode);
      }
    }
  }
  std::vector<DirtyRef> refs;
  for (const auto& [id, path_and_inode] : named) {
    for (uint64_t index : path_and_inode.second->dirty) {
      refs.push_back(DirtyRef{DirtyPage{path_and_inode.first, index}, path_and_inode.second});
    }
  }
  std::sort(refs.begin(), refs.end(), [](const DirtyRef& a, const DirtyRef& b) { return a.page < b.page; });
  return refs;
}

std::vector<DirtyPage> FaultyFileSystem::dirty_pages() const {
  std::vector<DirtyPage> pages;
  for (DirtyRef& ref : dirty_refs()) pages.push_back(std::move(ref.page));
  return pages;
}

namespace {

// One file's content after a crash: its durable content with `new_sectors` of each dirty page taken
// from the volatile content. Returns the new size.
uint64_t recover_pages(Pages& pages, uint64_t durable_size, const Pages& fresh, uint64_t volatile_size,
                       const std::map<uint64_t, uint32_t>& new_sectors) {
  uint64_t size = durable_size;
  for (const auto& [index, sectors] : new_sectors) {
    if (sectors == 0) continue;
    uint64_t new_bytes = uint64_t{sectors} * FaultyFileSystem::kSectorSize;
    std::string& page = page_at(pages, index);
    auto it = fresh.find(index);
    SYNOD_ASSERT(it != fresh.end());
    std::copy_n(it->second.begin(), new_bytes, page.begin());
    size = std::max(size, std::min(volatile_size, index * kPageSize + new_bytes));
  }
  cut(pages, size);
  return size;
}

}  // namespace

void FaultyFileSystem::crash_impl(const std::function<uint32_t(const DirtyPage&)>& new_sectors,
                                  const std::function<bool(const std::string& dir)>& keep_dir_changes) {
  // Page fates first (in dirty_pages() order), then directories (in path order): the order a
  // Random is drawn in.
  std::map<uint64_t, std::map<uint64_t, uint32_t>> fates;  // inode id -> page -> new sectors
  for (const DirtyRef& ref : dirty_refs()) {
    uint32_t sectors = new_sectors(ref.page);
    SYNOD_ASSERT(sectors <= kSectorsPerPage);
    fates[ref.inode->id][ref.page.page] = sectors;
  }
  std::map<uint64_t, InodePtr> survivors;
  for (auto& [path, directory] : dirs_) {
    if (directory.entries != directory.synced_entries && !keep_dir_changes(path)) {
      directory.entries = directory.synced_entries;
    }
    directory.synced_entries = directory.entries;
    for (const auto& [name, inode] : directory.entries) survivors[inode->id] = inode;
  }
  for (auto& [id, inode] : survivors) {
    // fates[id] is empty for a file without dirty pages: it comes back with its durable content.
    inode->durable_size =
        recover_pages(inode->durable_pages, inode->durable_size, inode->pages, inode->size, fates[id]);
    inode->pages = inode->durable_pages;
    inode->size = inode->durable_size;
    inode->shrunk_to = inode->size;
    inode->dirty.clear();
  }
  ++generation_;
  ++stats_.crashes;
}

void FaultyFileSystem::crash(Random& random) {
  crash_impl(
      [&](const DirtyPage&) -> uint32_t {
        switch (random.uniform(3)) {
          case 0: return 0;
          case 1: return kSectorsPerPage;
          default: return static_cast<uint32_t>(random.between(1, kSectorsPerPage - 1));
        }
      },
      [&](const std::string&) { return random.chance(1, 2); });
}

void FaultyFileSystem::crash_with(const std::function<PageFate(const DirtyPage&)>& fate,
                                  bool keep_unsynced_dir_changes) {
  crash_impl(
      [&](const DirtyPage& page) -> uint32_t {
        switch (fate(page)) {
          case PageFate::kLost: return 0;
          case PageFate::kKept: return kSectorsPerPage;
          case PageFate::kTorn: return kSectorsPerPage / 2;
        }
        SYNOD_ASSERT_MSG(false, "unknown page fate");
        return 0;
      },
      [&](const std::string&) { return keep_unsynced_dir_changes; });
}

}  // namespace synod::sim
