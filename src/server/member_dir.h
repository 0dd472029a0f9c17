// MemberDir: what a member keeps in its --data-dir besides the log. `synod.meta` records who this
// member is (name, id, cluster id, members and their peer URLs, engine) and an incarnation counter
// bumped on every start, which the node loop needs to tell its own old proposals from new ones.
//
// A data dir that exists wins over the --initial-* flags, as in etcd: a restarted member rejoins the
// cluster it was created for. Starting it with another --engine is refused, because the log's entries
// mean different things to different engines.
//
// The file is small text (key=value lines), replaced atomically (write a temporary file, fsync,
// rename, fsync the directory), and parsed strictly: a damaged file is an error naming the line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/server_config.h"
#include "storage/file_system.h"

namespace synod::server {

struct MemberMeta {
  std::string engine;
  uint64_t cluster_id = 0;
  NodeId member_id = kNoNode;
  std::string name;
  uint64_t incarnation = 0;
  std::vector<ClusterMember> members;

  std::string encode() const;
  static Result<MemberMeta> decode(std::string_view text);
};

class MemberDir {
 public:
  explicit MemberDir(storage::FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  // nullopt if the directory holds no member yet.
  Result<std::optional<MemberMeta>> load();
  Status save(const MemberMeta& meta);
  // The log and snapshots (storage/disk_storage.h) live here.
  std::string storage_dir() const;
  const std::string& path() const { return dir_; }

 private:
  storage::FileSystem& fs_;
  std::string dir_;
};

// Opens the member for `config`: creates the directory and its meta on first start (from the flags),
// checks the flags against what is recorded on later starts, and bumps the incarnation. `notes` says
// what it decided, for the log.
Result<MemberMeta> open_member(storage::FileSystem& fs, const ServerConfig& config,
                               std::vector<std::string>& notes);

}  // namespace synod::server
