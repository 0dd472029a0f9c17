// Status and Result: how Synod reports an operation that failed for a reason the caller must handle
// (bad input, not the leader, too large). Invariant violations are SYNOD_ASSERT, never a Status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace synod {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // the request itself is malformed
  kNotLeader,        // this node cannot serve it; the leader may be known (see message)
  kNoLeader,         // no leader is known right now; retry later
  kTransferInProgress,
  kTooLarge,
  kDropped,    // a message that failed validation and was discarded
  kStale,      // input from an older term or an obsolete request
  kCompacted,  // the requested index is covered by a snapshot
  kUnavailable,
  kCorruption,
  kIoError,
  kAborted,   // the request was accepted but definitely took no effect (its log entry was overwritten)
  kTimedOut,  // no answer in time: the request may or may not take effect
  kNotFound,  // a file or an item that does not exist
  kNoSpace,   // the disk is full (ENOSPC) or a quota is reached
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    SYNOD_ASSERT_MSG(!status_.is_ok(), "a Result without a value needs an error");
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& {
    SYNOD_ASSERT(value_.has_value());
    return *value_;
  }
  T& value() & {
    SYNOD_ASSERT(value_.has_value());
    return *value_;
  }
  T&& value() && {
    SYNOD_ASSERT(value_.has_value());
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace synod

// Evaluates `expr` (a Result); on error returns its Status from the enclosing function, otherwise
// assigns the value to `lhs` (a declaration or an lvalue).
#define SYNOD_CONCAT_INNER(a, b) a##b
#define SYNOD_CONCAT(a, b) SYNOD_CONCAT_INNER(a, b)
#define SYNOD_TRY_ASSIGN(lhs, expr)                                                                          \
  auto SYNOD_CONCAT(synod_result_, __LINE__) = (expr);                                                       \
  if (!SYNOD_CONCAT(synod_result_, __LINE__).is_ok()) return SYNOD_CONCAT(synod_result_, __LINE__).status(); \
  lhs = std::move(SYNOD_CONCAT(synod_result_, __LINE__)).value() /* NOLINT(bugprone-macro-parentheses) */

// Evaluates `expr` (a Status) and returns it from the enclosing function if it is an error.
#define SYNOD_TRY(expr)                               \
  do {                                                \
    ::synod::Status synod_status_ = (expr);           \
    if (!synod_status_.is_ok()) return synod_status_; \
  } while (false)
