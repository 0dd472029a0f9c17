#include "kv/mvcc_hash.h"

#include "base/bytes.h"
#include "base/crc32c.h"
#include "kv/mvcc_errors.h"

namespace synod::kv {

Result<uint32_t> hash_kv(const MvccStore& store, int64_t revision) {
  int64_t at = revision > 0 ? revision : store.revision();
  if (at > store.revision()) return future_revision_error();
  if (at < store.compact_revision()) return compacted_error();
  uint32_t crc = 0;
  ByteWriter compact;
  compact.put_varint(static_cast<uint64_t>(store.compact_revision()));
  crc = crc32c_extend(crc, compact.data());
  for (const KeyView& live : store.index().range(KeyRange::of("", std::string_view("\0", 1)), at)) {
    ByteWriter out;
    out.put_string(*live.key);
    out.put_string(live.record->value);
    out.put_varint(static_cast<uint64_t>(live.record->create_revision));
    out.put_varint(static_cast<uint64_t>(live.record->revision.main));
    out.put_varint(static_cast<uint64_t>(live.record->revision.sub));
    out.put_varint(static_cast<uint64_t>(live.record->version));
    out.put_varint(static_cast<uint64_t>(live.record->lease));
    crc = crc32c_extend(crc, out.data());
  }
  return crc;
}

}  // namespace synod::kv
