// Typed proposals for the recipes: a KV or lease request goes through the log as the KV and Lease
// services send it (kv/mvcc_codec.h) and comes back as its response or its error.
#pragma once

#include <functional>
#include <utility>

#include "api/backend.h"
#include "kv/mvcc_codec.h"

namespace synod::api::recipe {

// `done` runs once, on the node loop thread (or the caller's if the node has stopped).
template <typename Response, typename Request>
void propose(Backend& backend, const Request& request, std::function<void(Result<Response>)> done) {
  backend.propose(kv::encode_command(request), [done = std::move(done)](Result<std::string> result) {
    done(result.is_ok() ? kv::decode_result<Response>(result.value()) : Result<Response>(result.status()));
  });
}

}  // namespace synod::api::recipe
