// Short builders for hand-written histories in tests: put(1, "x", "5", 100, 180) is client 1's put of "5"
// to x, called at 100 and returned ok at 180; unknown(...) and failed(...) change the status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "check/history.h"

namespace synod::check::test {

inline Operation make(int64_t client, OpKind kind, std::string key, int64_t call, int64_t ret) {
  Operation op;
  op.client = client;
  op.kind = kind;
  op.key = std::move(key);
  op.call = call;
  op.return_time = ret;
  op.status = OpStatus::kOk;
  return op;
}

inline Operation get(int64_t client, std::string key, std::optional<std::string> read, int64_t call,
                     int64_t ret) {
  Operation op = make(client, OpKind::kGet, std::move(key), call, ret);
  op.read = std::move(read);
  return op;
}

inline Operation put(int64_t client, std::string key, std::string value, int64_t call, int64_t ret) {
  Operation op = make(client, OpKind::kPut, std::move(key), call, ret);
  op.value = std::move(value);
  return op;
}

inline Operation del(int64_t client, std::string key, int64_t call, int64_t ret) {
  return make(client, OpKind::kDelete, std::move(key), call, ret);
}

inline Operation cas(int64_t client, std::string key, std::string expect, std::string value, bool succeeded,
                     int64_t call, int64_t ret) {
  Operation op = make(client, OpKind::kCas, std::move(key), call, ret);
  op.expect = std::move(expect);
  op.value = std::move(value);
  op.cas_succeeded = succeeded;
  return op;
}

// The same operation with an unknown outcome: no output, and a return time only if one is given.
inline Operation unknown(Operation op, std::optional<int64_t> ret = std::nullopt) {
  op.status = OpStatus::kUnknown;
  op.return_time = ret;
  op.read.reset();
  op.cas_succeeded = false;
  return op;
}

inline Operation failed(Operation op) {
  op.status = OpStatus::kFail;
  op.read.reset();
  op.cas_succeeded = false;
  return op;
}

}  // namespace synod::check::test
