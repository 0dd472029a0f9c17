// SimServer: one Synod server inside the simulator: the real node glue (node/node.h) around an engine,
// the real replicated map (kv/map_store.h), and the real durable storage (storage/disk_storage.h) on
// a fault-injecting in-memory disk (sim/faulty_file_system.h) behind a power switch
// (sim/power_cut_file_system.h). A crash destroys the process and power-cycles the disk: unsynced
// pages are lost, kept or torn and unsynced directory changes may be reverted; a restart recovers the
// engine, the map and the node from what the disk kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "kv/map_store.h"
#include "node/node.h"
#include "sim/faulty_file_system.h"
#include "sim/power_cut_file_system.h"
#include "sim/sim_node.h"
#include "storage/disk_storage.h"

namespace synod::sim {

struct SimServer {
  NodeId id = kNoNode;
  std::unique_ptr<FaultyFileSystem> disk = std::make_unique<FaultyFileSystem>();  // survives crashes
  std::unique_ptr<PowerCutFileSystem> power;
  std::unique_ptr<storage::DiskStorage> storage;
  std::unique_ptr<kv::MapStore> map;
  std::unique_ptr<node::Node> node;
  uint64_t incarnation = 0;

  bool up() const { return node != nullptr; }
  // A first start or a restart from the disk. `options` gives everything but id, voters and
  // incarnation. Fails if storage cannot recover; `notes` gets what recovery repaired.
  Status start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed,
               node::NodeOptions options, node::Outbox outbox,
               const storage::DiskStorageOptions& disk_options, std::vector<std::string>& notes);
  // The process dies and the disk loses power; `random` decides what the unsynced pages become.
  void crash(Random& random);
};

}  // namespace synod::sim
