#include "server/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace synod::server {

namespace {
std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> logger = spdlog::stderr_logger_mt("synod");
  return logger;
}
}  // namespace

Status init_logging(const std::string& level, const std::string& member) {
  spdlog::level::level_enum parsed = spdlog::level::info;
  if (level == "debug") {
    parsed = spdlog::level::debug;
  } else if (level == "info") {
    parsed = spdlog::level::info;
  } else if (level == "warn") {
    parsed = spdlog::level::warn;
  } else if (level == "error") {
    parsed = spdlog::level::err;
  } else if (level == "panic" || level == "fatal") {
    parsed = spdlog::level::critical;
  } else {
    return Status(ErrorCode::kInvalidArgument, "unknown log level '" + level + "'");
  }
  spdlog::logger& logger = *logger_slot();
  logger.set_level(parsed);
  // UTC timestamps with milliseconds, the level padded, then this member's name on every line.
  logger.set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l member=" + member + " %v", spdlog::pattern_time_type::utc);
  logger.flush_on(spdlog::level::info);
  return Status::ok();
}

spdlog::logger& log() {
  return *logger_slot();
}

}  // namespace synod::server
