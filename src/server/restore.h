// Restoring a cluster from a backup (what Maintenance.Snapshot streams and `etcdctl snapshot save`
// writes). Like `etcdctl snapshot restore`, it makes a NEW cluster: run it once per member, with the same
// backup and the same --initial-cluster and --initial-cluster-token on each, then start the members with
// those flags. Each member's data dir then holds the store from the backup as a snapshot at index 1,
// term 1, with every member a voter, so all members begin from the same log position and the first
// election happens in term 2. The backup's log history is not carried over (it is not in the backup).
//
// The data dir must not exist yet, or be empty. The member is built next to it (DIR.restoring) and
// renamed into place only when complete, so a crash mid-restore never leaves a half-made member that
// `synod` would start from.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "server/server_config.h"

namespace synod::server {

// Restores the backup file at `backup_path` into config.data_dir for member config.name. `notes` says
// what it did.
Status restore_member(const ServerConfig& config, const std::string& backup_path,
                      std::vector<std::string>& notes);

}  // namespace synod::server
