#include "base/status.h"

namespace synod {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotLeader: return "not leader";
    case ErrorCode::kNoLeader: return "no leader";
    case ErrorCode::kTransferInProgress: return "leader transfer in progress";
    case ErrorCode::kTooLarge: return "too large";
    case ErrorCode::kDropped: return "dropped";
    case ErrorCode::kStale: return "stale";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIoError: return "i/o error";
    case ErrorCode::kAborted: return "aborted";
    case ErrorCode::kTimedOut: return "timed out";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kNoSpace: return "no space";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(error_code_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace synod
