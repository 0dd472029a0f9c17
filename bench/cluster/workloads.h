// The clients that generate load: one object per request in flight (or per watcher), driven by its
// completion-queue events. See driver.h for how they are paced.
#pragma once

#include <memory>
#include <vector>

#include "bench/cluster/driver.h"

namespace synod::bench {

// A source of load: begins taking tickets when told, and tells the driver when it has no more work.
class LoadClient : public Tag {
 public:
  virtual void begin() = 0;
};

// --clients of them, of the workload's kind (the watch workload's are its putters), spread over the
// connections.
std::vector<std::unique_ptr<LoadClient>> make_clients(Driver& driver);

// The system's version as its first endpoint's Status reports it, or "" if it does not answer.
std::string server_version(Driver& driver);

// Runs the workload of driver.options() to the end; the statistics are in the driver afterwards.
// Returns false (reason printed) if the run could not start.
bool run_workload(Driver& driver);

// The watch workload: put latency is not measured; each event's delay from its put's send time is.
bool run_watch(Driver& driver);

// Encodes the put's send time at the front of a watch workload's value, and reads it back.
std::string stamped_value(Clock::time_point sent, size_t size);
bool read_stamp(const std::string& value, Clock::time_point& sent);

}  // namespace synod::bench
