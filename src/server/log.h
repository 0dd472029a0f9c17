// The server's log: one line per significant event (elections, leader changes, snapshots, peers coming
// and going, slow fsyncs, recovery notes), written with spdlog to stderr as
//   2026-11-26T06:40:00.123Z info  member=a event=leader-changed leader=b term=4
// so lines are both readable and easy to grep or parse (logfmt-style key=value after the level).
// Only the server logs: the protocol cores and the storage library report through return values and
// callbacks, so they stay free of I/O.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace spdlog {
class logger;
}

namespace synod::server {

// etcd's level names: debug, info, warn, error, panic, fatal (the last two log only errors that stop
// the process).
Status init_logging(const std::string& level, const std::string& member);
spdlog::logger& log();

}  // namespace synod::server
