#include "sim/sim_server.h"

#include "base/assert.h"

namespace synod::sim {

Status SimServer::start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed,
                        node::NodeOptions options, node::Outbox outbox,
                        const storage::DiskStorageOptions& disk_options, std::vector<std::string>& notes) {
  power = std::make_unique<PowerCutFileSystem>(*disk);
  storage::DiskStorageOptions storage_options = disk_options;
  storage_options.node_id = id;
  DurableState durable;
  Result<std::unique_ptr<storage::DiskStorage>> opened =
      storage::DiskStorage::open(*power, storage_options, durable, notes);
  if (!opened.is_ok()) {
    power.reset();
    return opened.status();
  }
  storage = std::move(opened).value();
  Result<std::unique_ptr<Engine>> created = factory(id, voters, seed, durable);
  SYNOD_ASSERT_MSG(created.is_ok(), created.status().to_string().c_str());
  map = std::make_unique<kv::MapStore>();
  if (durable.snapshot) {
    Status restored = map->restore(durable.snapshot->data);
    SYNOD_ASSERT_MSG(restored.is_ok(), restored.to_string().c_str());
  }
  ++incarnation;
  options.id = id;
  options.voters = voters;
  options.incarnation = incarnation;
  node = std::make_unique<node::Node>(std::move(options), std::move(created).value(), *map, *storage,
                                      std::move(outbox));
  return Status::ok();
}

void SimServer::crash(Random& random) {
  node.reset();
  map.reset();
  storage.reset();
  power.reset();
  disk->crash(random);
}

}  // namespace synod::sim
