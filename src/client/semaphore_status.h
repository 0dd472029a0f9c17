// What a semaphore (client/semaphore.h) looks like in the store at one revision: its permit count and
// its queue, split into the contenders entitled to a permit (the N oldest) and those waiting. A holder
// is "entitled" here: whether its process has noticed yet, or still runs, the store cannot say.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/deadline.h"
#include "client/etcd_connection.h"

namespace synod::client {

struct SemaphoreStatus {
  struct Contender {
    std::string key;
    int64_t token = 0;  // the key's create revision
    int64_t lease = 0;
  };
  int64_t revision = 0;
  std::optional<int> permits;  // nullopt: never defined (or deleted by hand)
  std::vector<Contender> holders;
  std::vector<Contender> waiters;
};

Result<SemaphoreStatus> read_semaphore_status(EtcdConnection& connection, const std::string& name,
                                              Deadline deadline);

}  // namespace synod::client
