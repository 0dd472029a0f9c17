// A backup: what Maintenance.Snapshot streams and `etcdctl snapshot save` writes to a file. etcdctl
// 3.4 accepts a download only if it ends in a SHA-256 checksum placed the way etcd places it after its
// page-aligned database (total size = a multiple of 512, plus 32), so Synod wraps its store snapshot:
//
//   "SYNODBK1" | fixed64 length | snapshot bytes | zero padding to a multiple of 512 | SHA-256 of all before
//
// decode_backup() checks every part, so a truncated or altered file is refused with the reason.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::api {

std::string encode_backup(std::string_view snapshot);
// The store snapshot inside a backup.
Result<std::string> decode_backup(std::string_view backup);

}  // namespace synod::api
