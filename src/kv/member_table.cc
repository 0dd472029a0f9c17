#include "kv/member_table.h"

#include <utility>

namespace synod::kv {

bool MemberTable::publish(uint64_t member, PublishedMember attributes) {
  auto [it, inserted] = members_.try_emplace(member, attributes);
  if (inserted) return true;
  if (it->second == attributes) return false;
  it->second = std::move(attributes);
  return true;
}

void MemberTable::encode(ByteWriter& out) const {
  out.put_varint(members_.size());
  for (const auto& [id, member] : members_) {
    out.put_varint(id);
    out.put_string(member.name);
    out.put_varint(member.client_urls.size());
    for (const std::string& url : member.client_urls) out.put_string(url);
  }
}

Status MemberTable::decode(ByteReader& in) {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kCorruption, "members: " + what); };
  if (!members_.empty()) return bad("decoded into a table in use");
  SYNOD_TRY_ASSIGN(uint64_t count, in.varint());
  if (count > in.rest().size()) return bad("a count beyond the data");
  uint64_t previous = 0;
  for (uint64_t i = 0; i < count; ++i) {
    SYNOD_TRY_ASSIGN(uint64_t id, in.varint());
    if (id == 0 || id <= previous) return bad("member ids out of order");
    previous = id;
    PublishedMember member;
    SYNOD_TRY_ASSIGN(std::string_view name, in.string());
    member.name = std::string(name);
    SYNOD_TRY_ASSIGN(uint64_t urls, in.varint());
    if (urls > in.rest().size()) return bad("a URL count beyond the data");
    for (uint64_t u = 0; u < urls; ++u) {
      SYNOD_TRY_ASSIGN(std::string_view url, in.string());
      member.client_urls.emplace_back(url);
    }
    members_.emplace(id, std::move(member));
  }
  return Status::ok();
}

}  // namespace synod::kv
