#include "storage/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace synod::storage {
namespace {

Status os_error(const std::string& what, const std::string& path, int error) {
  ErrorCode code = error == ENOSPC || error == EDQUOT ? ErrorCode::kNoSpace
                   : error == ENOENT                  ? ErrorCode::kNotFound
                                                      : ErrorCode::kIoError;
  return Status(code, what + " " + path + ": " + std::strerror(error));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status write_at(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (written < 0) {
        if (errno == EINTR) continue;
        return os_error("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(written));
      offset += static_cast<uint64_t>(written);
    }
    return Status::ok();
  }

  Result<std::string> read_at(uint64_t offset, size_t length) override {
    std::string out(length, '\0');
    size_t done = 0;
    while (done < length) {
      ssize_t got = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return os_error("read", path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    out.resize(done);
    return out;
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return os_error("fdatasync", path_, errno);
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return os_error("truncate", path_, errno);
    return Status::ok();
  }

  Status preallocate(uint64_t size) override {
    int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (error == EOPNOTSUPP || error == EINVAL) return truncate(std::max<uint64_t>(size, 0));  // e.g. tmpfs
    if (error != 0) return os_error("fallocate", path_, error);
    return Status::ok();
  }

  Result<uint64_t> size() override {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) return os_error("stat", path_, errno);
    return static_cast<uint64_t>(info.st_size);
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kCreateNew: flags |= O_RDWR | O_CREAT | O_EXCL; break;
    case OpenMode::kOpenExisting: flags |= O_RDWR; break;
    case OpenMode::kReadOnly: flags |= O_RDONLY; break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return Status(ErrorCode::kInvalidArgument, "create " + path + ": it already exists");
    return os_error("open", path, errno);
  }
  return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return os_error("remove", path, errno);
  return Status::ok();
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return os_error("rename to " + to + " from", from, errno);
  return Status::ok();
}

Result<std::vector<std::string>> PosixFileSystem::list(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return os_error("list", dir, errno);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

Status PosixFileSystem::make_dirs(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return os_error("create directory", dir, error.value());
  return Status::ok();
}

Status PosixFileSystem::sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("open directory", dir, errno);
  int result = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (result != 0) return os_error("fsync directory", dir, error);
  return Status::ok();
}

bool PosixFileSystem::exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace synod::storage
