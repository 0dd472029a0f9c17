#include "server/restore.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "api/backup.h"
#include "kv/mvcc_store.h"
#include "server/member_dir.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"

namespace synod::server {
namespace {

namespace fs = std::filesystem;

Status invalid(const std::string& message) {
  return Status(ErrorCode::kInvalidArgument, message);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid("cannot read the backup " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, "reading the backup " + path + " failed");
  return std::move(bytes).str();
}

// Writes the member (meta, then the snapshot and hard state) into `dir`.
Status write_member(const ServerConfig& config, const std::string& dir, std::string store_snapshot) {
  storage::PosixFileSystem posix;
  MemberMeta meta;
  meta.engine = std::string(engine_name(config.engine));
  meta.cluster_id = config.cluster_id();
  meta.member_id = config.self().id;
  meta.name = config.name;
  meta.members = config.initial_cluster;
  meta.incarnation = 1;  // as a member that started once (synod.meta requires one); starts count on
  MemberDir member(posix, dir);
  SYNOD_TRY(member.save(meta));

  storage::DiskStorageOptions options;
  options.dir = member.storage_dir();
  options.cluster_id = meta.cluster_id;
  options.node_id = meta.member_id;
  DurableState empty;
  std::vector<std::string> recovery_notes;
  SYNOD_TRY_ASSIGN(std::unique_ptr<storage::DiskStorage> disk,
                   storage::DiskStorage::open(posix, options, empty, recovery_notes));
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->meta.index = 1;
  snapshot->meta.term = 1;
  for (const ClusterMember& m : config.initial_cluster) snapshot->meta.conf.voters.push_back(m.id);
  snapshot->data = std::move(store_snapshot);
  // What a follower persists when it installs a leader's snapshot: the snapshot, then a hard state
  // whose commit covers it.
  Ready ready;
  ready.snapshot = snapshot;
  ready.hard_state = HardState{1, kNoNode, 1};
  return disk->persist(ready);
}

}  // namespace

Status restore_member(const ServerConfig& config, const std::string& backup_path,
                      std::vector<std::string>& notes) {
  std::error_code error;
  const std::string& dir = config.data_dir;
  if (fs::exists(dir, error) && !fs::is_empty(dir, error)) {
    return invalid("the data dir " + dir + " is not empty; restore into a new directory");
  }
  SYNOD_TRY_ASSIGN(std::string backup, read_file(backup_path));
  Result<std::string> store_snapshot = api::decode_backup(backup);
  if (!store_snapshot.is_ok()) {
    return invalid(backup_path + " is not a usable Synod backup: " + store_snapshot.status().message());
  }
  // The store must load (this checks every record), and its applied index becomes the new log's 1.
  Result<std::string> rebased = kv::MvccStore::rebase_snapshot(store_snapshot.value(), 1);
  if (!rebased.is_ok()) return invalid(backup_path + ": " + rebased.status().message());
  kv::MvccStore probe;
  SYNOD_TRY(probe.restore(rebased.value()));

  std::string building = dir + ".restoring";
  fs::remove_all(building, error);
  if (error) return Status(ErrorCode::kIoError, "cannot clear " + building + ": " + error.message());
  Status written = write_member(config, building, std::move(rebased).value());
  if (!written.is_ok()) {
    fs::remove_all(building, error);
    return written;
  }
  if (fs::exists(dir, error)) fs::remove(dir, error);  // empty, checked above
  fs::rename(building, dir, error);
  if (error)
    return Status(ErrorCode::kIoError, "cannot move " + building + " to " + dir + ": " + error.message());
  fs::path parent = fs::absolute(dir).parent_path();
  storage::PosixFileSystem posix;
  SYNOD_TRY(posix.sync_dir(parent.string()));
  notes.push_back("restored member " + config.name + " (id " + std::to_string(config.self().id) + ") of a " +
                  std::to_string(config.initial_cluster.size()) + "-member cluster into " + dir +
                  ": revision " + std::to_string(probe.revision()) + ", " +
                  std::to_string(probe.leases().leases().size()) + " leases");
  return Status::ok();
}

}  // namespace synod::server
