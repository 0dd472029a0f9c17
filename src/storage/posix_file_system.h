// PosixFileSystem: the FileSystem a server runs on (pwrite, pread, fdatasync, fallocate, rename,
// fsync of directories). Errors carry the path and strerror; ENOSPC maps to kNoSpace, ENOENT to
// kNotFound, everything else to kIoError.
#pragma once

#include "storage/file_system.h"

namespace synod::storage {

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Status make_dirs(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;
};

}  // namespace synod::storage
