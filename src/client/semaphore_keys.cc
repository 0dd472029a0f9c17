#include "client/semaphore_keys.h"

#include <charconv>

#include "client/lease_keeper.h"

namespace synod::client::semaphore_keys {

std::string contender_prefix(const std::string& name) {
  return name + "/";
}

std::string contender_key(const std::string& name, int64_t lease) {
  return contender_prefix(name) + lease_hex(lease);
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key after `prefix`
}

bool is_contender(const std::string& name, const mvccpb::KeyValue& kv) {
  return kv.lease() != 0 && kv.key() == contender_key(name, kv.lease());
}

std::optional<int> parse_permits(const std::string& value) {
  int permits = 0;
  const char* end = value.data() + value.size();
  auto [stop, error] = std::from_chars(value.data(), end, permits);
  if (error != std::errc() || stop != end || permits < 1) return std::nullopt;
  return permits;
}

etcdserverpb::RangeRequest contenders(const std::string& name) {
  etcdserverpb::RangeRequest request;
  request.set_key(contender_prefix(name));
  request.set_range_end(prefix_end(contender_prefix(name)));
  request.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  request.set_keys_only(true);
  return request;
}

}  // namespace synod::client::semaphore_keys
