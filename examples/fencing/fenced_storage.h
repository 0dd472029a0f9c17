// FencedStorage: a resource that protects itself from a lock holder that no longer holds the lock.
//
// A lock with a lease can be lost without its holder noticing: the holder pauses (a GC pause, a stopped
// VM, a slow network), its lease expires, and another client takes the lock. When the first one wakes
// up it still believes it holds the lock. The lock service cannot stop its late write; the resource can.
// Each holder passes along a fencing token, a number the lock service makes strictly larger for every
// new holder; the resource remembers the largest token it has accepted and refuses anything older.
//
// With Synod's (and etcd's) lock the token is the revision a Lock call returns in its header (etcdctl
// lock passes it to its command as ETCD_LOCK_REV): a new holder only gets the lock after the previous
// holder's key was deleted, at a later revision. The create revision of the lock key works as well.
//
// Thread-safe; in memory, as the example it is.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace synod::examples {

class FencedStorage {
 public:
  enum class Verdict {
    kAccepted,
    kStaleToken,  // a newer holder has written: this writer lost the lock
  };

  // Writes `value` under `key` if `token` is at least the largest token seen (the same holder may write
  // many times with its token).
  Verdict write(int64_t token, const std::string& key, std::string value) {
    std::lock_guard lock(mutex_);
    if (token < highest_token_) return Verdict::kStaleToken;
    highest_token_ = token;
    data_[key] = std::move(value);
    return Verdict::kAccepted;
  }

  std::optional<std::string> read(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto found = data_.find(key);
    if (found == data_.end()) return std::nullopt;
    return found->second;
  }

  int64_t highest_token() const {
    std::lock_guard lock(mutex_);
    return highest_token_;
  }

 private:
  mutable std::mutex mutex_;
  int64_t highest_token_ = 0;
  std::map<std::string, std::string> data_;
};

}  // namespace synod::examples
