// MemberTable: what each member published about itself through the log (its name and the client URLs
// it advertises), so that MemberList on any member reports every member's client URLs, as etcd's does.
// Clients depend on that: `etcdctl endpoint status --cluster` and clientv3's endpoint sync dial the
// client URLs a member list gives them. Each member publishes once per start (server/server.cc); the
// newest publication of a member wins. Part of the MVCC store's snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace synod::kv {

struct PublishedMember {
  std::string name;
  std::vector<std::string> client_urls;
  bool operator==(const PublishedMember&) const = default;
};

class MemberTable {
 public:
  // Returns whether anything changed.
  bool publish(uint64_t member, PublishedMember attributes);
  const std::map<uint64_t, PublishedMember>& members() const { return members_; }

  void encode(ByteWriter& out) const;
  // Fills an empty table from what encode() wrote; refuses member 0, disorder and counts past the data.
  Status decode(ByteReader& in);

 private:
  std::map<uint64_t, PublishedMember> members_;
};

}  // namespace synod::kv
