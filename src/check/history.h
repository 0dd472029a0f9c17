// A client history of key-value operations, and its file format (JSON Lines, one operation per line).
// docs/history-format.md is the format's specification; this header is its reader and writer.
//
// A history is what clients saw: for each operation, when it was called, when (and whether) it returned,
// and what it returned. The linearizability checker (check/linearizability.h) decides whether some
// sequential order of the operations explains all of it.
//
// Reading is strict: every line is validated on its own (fields, types, times, outputs) and the first
// bad line is reported as "line N: what is wrong". Input never crashes the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::check {

enum class OpKind : uint8_t { kGet, kPut, kDelete, kCas };
enum class OpStatus : uint8_t {
  kOk,       // completed; its output is known
  kFail,     // definitely took no effect
  kUnknown,  // may have taken effect once, at any time after its call, or never
};

std::string_view op_kind_name(OpKind kind);        // "get", "put", "delete", "cas"
std::string_view op_status_name(OpStatus status);  // "ok", "fail", "unknown"

struct Operation {
  int64_t client = 0;  // a label: which lane it is drawn in; the checker does not use it
  OpKind kind = OpKind::kGet;
  std::string key;
  std::string value;   // put and cas: the value written; empty otherwise
  std::string expect;  // cas: the value compared with; empty otherwise
  int64_t call = 0;
  // When it returned. Required when status is kOk, and then return_time >= call. Ignored by the checker
  // for kUnknown operations (they may take effect after it) and for kFail ones.
  std::optional<int64_t> return_time;
  OpStatus status = OpStatus::kOk;
  // get with status kOk: the value read; nullopt means the key was absent.
  std::optional<std::string> read;
  // cas with status kOk: whether the compare matched and the value was written.
  bool cas_succeeded = false;
  // The 1-based line it was read from; 0 for an operation built in code. Used in messages.
  size_t line = 0;
};

using History = std::vector<Operation>;

// Checks one operation against the rules of the format (times, what an ok operation must carry).
// Messages name the field: "return (90) is before call (100)". The parser applies the same rules;
// this is for histories built in code.
Status validate_operation(const Operation& operation);

// Parses a whole JSON Lines document. Blank lines are skipped. The first bad line gives an
// kInvalidArgument status whose message starts with "line N: ".
Result<History> parse_history(std::string_view text);

// Parses one line (without its newline). `line_number` is used only in error messages.
Result<Operation> parse_operation(std::string_view line, size_t line_number);

// One operation as a single JSON line (no newline), in the field order of docs/history-format.md.
// Strings that are not valid UTF-8 are written with U+FFFD in place of the bad bytes.
std::string format_operation(const Operation& operation);

// Every operation, one line each, each line ending in '\n'. parse_history reads it back unchanged
// (except `line`, and bad UTF-8 as above).
void write_history(std::ostream& out, const History& history);

// A short human-readable form for reports: `client 3 cas "5"->"6" ok (true) [130, 200]`.
std::string describe_operation(const Operation& operation);

// A string value as it appears in reports: quoted and escaped, or "absent" for nullopt.
std::string quote_value(const std::optional<std::string>& value);

}  // namespace synod::check
