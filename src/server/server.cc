#include "server/server.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/etcd_services.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_store.h"
#include "kv/watch_hub.h"
#include "metrics/http_server.h"
#include "node/node_runner.h"
#include "node/timed_storage.h"
#include "paxos/multi_paxos.h"
#include "raft/raft.h"
#include "server/lessor.h"
#include "server/log.h"
#include "server/member_dir.h"
#include "server/server_metrics.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"
#include "transport/tcp_transport.h"

namespace synod::server {

namespace {

// The etcd API's view of this member: proposals and reads go to the node loop, counted for /metrics.
class NodeBackend final : public api::Backend {
 public:
  NodeBackend(node::NodeRunner& runner, ServerMetrics& metrics, const MemberMeta& meta,
              std::vector<std::string> client_urls, uint64_t transfer_ticks, kv::WatchHub& watches,
              const Lessor& lessor, const kv::MvccStore& store)
      : runner_(runner),
        metrics_(metrics),
        meta_(meta),
        store_(store),
        client_urls_(std::move(client_urls)),
        transfer_ticks_(transfer_ticks),
        watches_(watches),
        lessor_(lessor) {}

  void propose(std::string command, Done done) override {
    runner_.propose(std::move(command), [this, done = std::move(done)](Result<std::string> result) {
      (result.is_ok() ? metrics_.proposals_committed : metrics_.proposals_failed).inc();
      done(std::move(result));
    });
  }

  void read(Query query, bool linearizable, Done done) override {
    runner_.read(std::move(query),
                 linearizable ? node::NodeRunner::Consistency::kLinearizable
                              : node::NodeRunner::Consistency::kSerializable,
                 std::move(done));
  }

  api::HeaderInfo header() const override {
    EngineStatus status = runner_.status();
    return api::HeaderInfo{meta_.cluster_id, meta_.member_id, status.term};
  }

  api::RaftInfo raft() const override {
    EngineStatus status = runner_.status();
    api::RaftInfo out;
    out.leader = status.leader;
    out.term = status.term;
    out.commit_index = status.commit;
    out.applied_index = status.applied;
    return out;
  }

  kv::WatchHub& watch_hub() override { return watches_; }

  std::optional<std::chrono::milliseconds> lease_remaining(int64_t id) const override {
    return lessor_.remaining(id);
  }

  void transfer_leader(uint64_t to, Done done) override {
    // etcd gives a transfer about two election timeouts; the engine itself gives up after one.
    runner_.transfer_leader(to, transfer_ticks_, std::move(done));
  }

  std::vector<api::MemberInfo> members() const override {
    std::vector<api::MemberInfo> out;
    std::map<uint64_t, kv::PublishedMember> published = store_.published_members();
    for (const ClusterMember& member : meta_.members) {
      api::MemberInfo info;
      info.id = member.id;
      info.name = member.name;
      for (const Url& url : member.peer_urls) info.peer_urls.push_back(url.text());
      // Each member's own publication through the log; this member knows its own before that applies.
      if (auto it = published.find(member.id); it != published.end())
        info.client_urls = it->second.client_urls;
      if (member.id == meta_.member_id) info.client_urls = client_urls_;
      out.push_back(std::move(info));
    }
    return out;
  }

 private:
  node::NodeRunner& runner_;
  ServerMetrics& metrics_;
  const MemberMeta& meta_;
  const kv::MvccStore& store_;
  std::vector<std::string> client_urls_;
  uint64_t transfer_ticks_;
  kv::WatchHub& watches_;
  const Lessor& lessor_;
};

std::string describe(const transport::TransportEvent& event);

}  // namespace

struct Server::Parts {
  ServerConfig config;
  storage::PosixFileSystem fs;
  MemberMeta meta;
  metrics::Registry registry;
  std::unique_ptr<ServerMetrics> metrics;
  std::unique_ptr<storage::DiskStorage> storage;
  std::unique_ptr<node::TimedStorage> timed_storage;  // what the node persists through
  std::unique_ptr<kv::MvccStore> store;
  std::unique_ptr<kv::WatchHub> watches;  // told of every write the store applies
  // When leases expire. Stopped before the node loop, destroyed after it: revokes it proposed complete
  // on the loop.
  std::unique_ptr<Lessor> lessor;
  std::unique_ptr<transport::TcpTransport> transport;
  std::atomic<node::NodeRunner*> inbox{nullptr};
  std::unique_ptr<node::NodeRunner> runner;
  std::unique_ptr<NodeBackend> backend;
  std::unique_ptr<api::EtcdServices> services;
  std::unique_ptr<grpc::Server> grpc_server;
  std::vector<int> selected_ports;  // filled in by gRPC when it binds
  std::vector<uint16_t> client_ports;
  std::unique_ptr<metrics::HttpServer> http;
  uint16_t metrics_port = 0;

  // The watcher: logs leader changes and snapshots, notices a stopped node loop.
  std::thread watcher;
  std::mutex watcher_mutex;
  std::condition_variable watcher_wake;
  bool stopping = false;
  bool stopped = false;
  // This member's name and client URLs, published through the log once per start (kv/member_table.h).
  std::vector<std::string> advertised_client_urls;
  std::atomic<bool> published{false};
  std::atomic<bool> publishing{false};

  void watch();
  void publish_attributes();
};

Server::Server() : parts_(std::make_unique<Parts>()) {}

Server::~Server() {
  stop();
}

namespace {

// The consensus core the member runs (--engine): both behind the same Engine interface, with the same
// timing and limits.
Result<std::unique_ptr<Engine>> make_engine(const ServerConfig& config, NodeId id,
                                            const std::vector<NodeId>& voters, const DurableState& state) {
  int election_tick = config.election_ticks();
  size_t max_entry_bytes = config.max_request_bytes + 1024;  // room for the node's envelope
  uint64_t seed = std::random_device{}();
  if (config.engine == EngineKind::kPaxos) {
    paxos::MultiPaxosConfig paxos_config;
    paxos_config.id = id;
    paxos_config.voters = voters;
    paxos_config.election_tick = election_tick;
    paxos_config.heartbeat_tick = 1;
    paxos_config.max_entry_bytes = max_entry_bytes;
    paxos_config.seed = seed;
    Result<std::unique_ptr<paxos::MultiPaxos>> created = paxos::MultiPaxos::create(paxos_config, state);
    if (!created.is_ok()) return created.status();
    return std::unique_ptr<Engine>(std::move(created).value());
  }
  raft::Config raft_config;
  raft_config.id = id;
  raft_config.voters = voters;
  raft_config.election_tick = election_tick;
  raft_config.heartbeat_tick = 1;
  raft_config.max_entry_bytes = max_entry_bytes;
  raft_config.seed = seed;
  Result<std::unique_ptr<raft::Raft>> created = raft::Raft::create(raft_config, state);
  if (!created.is_ok()) return created.status();
  return std::unique_ptr<Engine>(std::move(created).value());
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerConfig& config) {
  std::unique_ptr<Server> server(new Server());
  Parts& p = *server->parts_;
  p.config = config;
  p.metrics = std::make_unique<ServerMetrics>(p.registry);

  std::vector<std::string> notes;
  Result<MemberMeta> meta = open_member(p.fs, config, notes);
  for (const std::string& note : notes) log().info("event=member-dir {}", note);
  if (!meta.is_ok()) return meta.status();
  p.meta = std::move(meta).value();
  std::vector<NodeId> voters;
  for (const ClusterMember& member : p.meta.members) voters.push_back(member.id);

  // The disk first: recovery decides what this member remembers.
  storage::DiskStorageOptions storage_options;
  storage_options.dir = MemberDir(p.fs, config.data_dir).storage_dir();
  storage_options.cluster_id = p.meta.cluster_id;
  storage_options.node_id = p.meta.member_id;
  // p.fs is a PosixFileSystem, which the snapshot writer thread may share with the loop.
  storage_options.background_snapshots = true;
  storage_options.keep_entries_after_snapshot = config.engine == EngineKind::kPaxos;
  ServerMetrics* metrics = p.metrics.get();
  storage_options.on_sync = [metrics](uint64_t bytes, std::chrono::nanoseconds took) {
    double seconds = std::chrono::duration<double>(took).count();
    metrics->wal_fsync_seconds.observe(seconds);
    if (seconds > 1.0) {
      metrics->slow_fsyncs.inc();
      log().warn("event=slow-fsync took_ms={:.0f} bytes={} note=\"the disk is slow; expect elections\"",
                 seconds * 1000, bytes);
    }
  };
  DurableState state;
  std::vector<std::string> recovery_notes;
  Result<std::unique_ptr<storage::DiskStorage>> storage =
      storage::DiskStorage::open(p.fs, storage_options, state, recovery_notes);
  for (const std::string& note : recovery_notes) log().warn("event=recovery {}", note);
  if (!storage.is_ok()) return storage.status();
  p.storage = std::move(storage).value();
  kv::MvccOptions store_options;
  store_options.max_txn_ops = config.max_txn_ops;
  p.store = std::make_unique<kv::MvccStore>(store_options);
  if (state.snapshot) {
    SYNOD_TRY(p.store->restore(state.snapshot->data));
    log().info("event=snapshot-restored index={} bytes={}", state.snapshot->meta.index,
               state.snapshot->data.size());
  }
  // Watches see every write from here on: the node applies the log's tail once it runs.
  p.watches = std::make_unique<kv::WatchHub>(p.store->revision());
  p.store->set_write_observer(p.watches.get());
  // Lease deadlines: the leases restored above get a full TTL; the lessor acts once the node runs.
  LessorOptions lessor_options;
  lessor_options.check_interval = config.heartbeat_interval;
  lessor_options.promotion_extension = config.election_timeout;
  lessor_options.leading_term = [&p]() -> std::optional<uint64_t> {
    EngineStatus status = p.runner->status();
    return status.role == Role::kLeader ? std::optional<uint64_t>(status.term) : std::nullopt;
  };
  lessor_options.propose = [&p](std::string command, LessorOptions::Done done) {
    p.runner->propose(std::move(command), std::move(done));
  };
  p.lessor = std::make_unique<Lessor>(std::move(lessor_options));
  p.store->set_lease_observer(p.lessor.get());
  p.lessor->leases_reset(p.store->leases());
  log().info(
      "event=recovered term={} vote={} commit={} entries={} last_index={}", state.hard_state.term,
      state.hard_state.vote, state.hard_state.commit, state.entries.size(),
      state.entries.empty() ? (state.snapshot ? state.snapshot->meta.index : 0) : state.entries.back().index);

  // The peer transport.
  transport::TcpTransportOptions transport_options;
  transport_options.cluster_id = p.meta.cluster_id;
  transport_options.self = p.meta.member_id;
  transport_options.listen_host = config.listen_peer_urls.front().host;
  transport_options.listen_port = config.listen_peer_urls.front().port;
  transport_options.max_frame_bytes =
      std::max<size_t>(transport_options.max_frame_bytes, 4 * config.max_request_bytes);
  transport_options.on_event = [](const transport::TransportEvent& event) {
    log().info("{}", describe(event));
  };
  Parts* parts = &p;
  Result<std::unique_ptr<transport::TcpTransport>> transport =
      transport::TcpTransport::start(transport_options, [parts](Message&& message) {
        if (node::NodeRunner* runner = parts->inbox.load()) runner->deliver(std::move(message));
      });
  if (!transport.is_ok()) {
    return Status(transport.status().code(), "cannot listen for peers on " +
                                                 config.listen_peer_urls.front().text() + ": " +
                                                 transport.status().message());
  }
  p.transport = std::move(transport).value();
  std::vector<NodeId> peers;
  for (const ClusterMember& member : p.meta.members) {
    if (member.id == p.meta.member_id) continue;
    p.transport->set_peer(member.id, member.peer_urls.front().host, member.peer_urls.front().port);
    peers.push_back(member.id);
  }
  p.metrics->watch_peers(peers, *p.transport);

  // The engine and the node loop.
  Result<std::unique_ptr<Engine>> engine = make_engine(config, p.meta.member_id, voters, state);
  if (!engine.is_ok()) return engine.status();

  node::NodeOptions node_options;
  node_options.id = p.meta.member_id;
  node_options.voters = voters;
  node_options.incarnation = p.meta.incarnation;
  node_options.snapshot_entries = config.snapshot_count;
  // etcd's request timeout: five seconds plus two election timeouts.
  node_options.request_timeout_ticks = static_cast<uint64_t>(
      (std::chrono::milliseconds(5000) + 2 * config.election_timeout) / config.heartbeat_interval);
  transport::TcpTransport* out = p.transport.get();
  p.timed_storage = std::make_unique<node::TimedStorage>(*p.storage);
  auto node =
      std::make_unique<node::Node>(node_options, std::move(engine).value(), *p.store, *p.timed_storage,
                                   [out](Message&& message) { out->send(std::move(message)); });
  // A turn of the loop that takes half an election timeout is logged with where its time went: past a
  // whole one, the followers stop hearing from a leader and elect another.
  node::TimedStorage* timed = p.timed_storage.get();
  auto slow = std::chrono::duration_cast<std::chrono::nanoseconds>(config.election_timeout) / 2;
  auto observe_turn = [timed, slow](const node::NodeRunner::TurnTiming& turn) {
    std::chrono::nanoseconds persisting = timed->take_persist_time();
    if (turn.total() < slow) return;
    auto ms = [](std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); };
    log().warn(
        "event=slow-turn took_ms={:.0f} inputs={} inputs_ms={:.0f} tick_ms={:.0f} ready_ms={:.0f} "
        "persist_ms={:.0f} note=\"the node loop was held; past an election timeout the followers elect "
        "another leader\"",
        ms(turn.total()), turn.inputs_handled, ms(turn.inputs), ms(turn.tick), ms(turn.ready),
        ms(persisting));
  };
  p.runner = std::make_unique<node::NodeRunner>(std::move(node), config.heartbeat_interval, observe_turn);
  p.inbox = p.runner.get();
  p.lessor->start();
  node::NodeRunner* runner = p.runner.get();
  p.metrics->watch_engine([runner] { return runner->status(); });

  // The etcd API.
  std::vector<std::string> advertised;
  // What this member tells clients: the advertised URLs, or where it listens when none are given.
  for (const Url& url :
       config.advertise_client_urls.empty() ? config.listen_client_urls : config.advertise_client_urls) {
    advertised.push_back(url.text());
  }
  p.advertised_client_urls = advertised;
  p.backend = std::make_unique<NodeBackend>(*p.runner, *p.metrics, p.meta, advertised,
                                            2 * static_cast<uint64_t>(config.election_ticks()), *p.watches,
                                            *p.lessor, *p.store);
  api::ServiceOptions service_options;
  service_options.max_request_bytes = config.max_request_bytes;
  service_options.quota_bytes =
      config.quota_backend_bytes == 0 ? api::kDefaultQuotaBytes : config.quota_backend_bytes;
  // etcd's minimum lease TTL: 1.5 election timeouts (in whole ticks), rounded up to a second, so a
  // lease outlives the election that may follow a leader's loss.
  auto min_ttl = ((3 * config.election_ticks()) / 2) * config.heartbeat_interval;
  service_options.min_lease_ttl = std::max<int64_t>(1, (min_ttl.count() + 999) / 1000);
  grpc::ServerBuilder builder;
  p.selected_ports.assign(config.listen_client_urls.size(), 0);
  for (size_t i = 0; i < config.listen_client_urls.size(); ++i) {
    const Url& url = config.listen_client_urls[i];
    builder.AddListeningPort(url.host + ":" + std::to_string(url.port), grpc::InsecureServerCredentials(),
                             &p.selected_ports[i]);
  }
  // The services refuse what exceeds --max-request-bytes with etcd's own error.
  p.services = std::make_unique<api::EtcdServices>(*p.backend, *p.store, service_options);
  p.services->register_with(builder);
  p.grpc_server = builder.BuildAndStart();
  if (!p.grpc_server) {
    return Status(
        ErrorCode::kUnavailable,
        "cannot serve clients on " + config.listen_client_urls.front().text() + " (is the port in use?)");
  }
  for (int port : p.selected_ports) p.client_ports.push_back(static_cast<uint16_t>(port));

  // /metrics and /health.
  if (!config.listen_metrics_urls.empty()) {
    const Url& url = config.listen_metrics_urls.front();
    metrics::Registry* registry = &p.registry;
    Result<std::unique_ptr<metrics::HttpServer>> http = metrics::HttpServer::start(
        url.host, url.port, [registry, runner](std::string_view method, std::string_view path) {
          (void)method;
          metrics::HttpResponse response;
          if (path == "/metrics") {
            response.body = registry->render();
            response.content_type = std::string(metrics::kExpositionContentType);
          } else if (path == "/health") {
            EngineStatus status = runner->status();
            bool healthy = runner->failure().is_ok() && status.leader != kNoNode;
            response.status = healthy ? 200 : 503;
            response.content_type = "application/json";
            response.body =
                std::string("{\"health\":\"") + (healthy ? "true" : "false") + "\",\"reason\":\"" +
                (!runner->failure().is_ok() ? "node stopped" : (healthy ? "" : "no leader")) + "\"}\n";
          } else {
            response.status = 404;
            response.body = "not found\n";
          }
          return response;
        });
    if (!http.is_ok()) {
      return Status(http.status().code(),
                    "cannot serve metrics on " + url.text() + ": " + http.status().message());
    }
    p.http = std::move(http).value();
    p.metrics_port = p.http->port();
  }

  p.watcher = std::thread([parts] { parts->watch(); });
  return server;
}

void Server::Parts::watch() {
  EngineStatus last;
  last.leader = kNoNode;
  bool reported_failure = false;
  std::unique_lock<std::mutex> lock(watcher_mutex);
  while (!stopping) {
    watcher_wake.wait_for(lock, config.heartbeat_interval);
    EngineStatus now = runner->status();
    if (now.leader != last.leader) {
      if (now.leader != kNoNode) metrics->leader_changes.inc();
      if (now.leader == meta.member_id) {
        log().info("event=became-leader term={} commit={}", now.term, now.commit);
      } else if (now.leader == kNoNode) {
        log().info("event=leader-lost term={} role={}", now.term, role_name(now.role));
      } else {
        log().info("event=leader-changed leader={} term={}", now.leader, now.term);
      }
    } else if (now.term != last.term && now.role == Role::kCandidate) {
      log().info("event=election term={}", now.term);
    }
    if (now.snapshot_index != last.snapshot_index && last.term != 0) {
      log().info("event=snapshot index={} applied={}", now.snapshot_index, now.applied);
    }
    if (now.leader != kNoNode && !published.load()) publish_attributes();
    Status failed = runner->failure();
    if (!failed.is_ok() && !reported_failure) {
      log().critical("event=node-stopped error=\"{}\" note=\"restart the member; it recovers from its disk\"",
                     failed.to_string());
      reported_failure = true;
    }
    last = now;
  }
}

void Server::Parts::publish_attributes() {
  if (publishing.exchange(true)) return;
  synodpb::MemberAttributes attributes;
  attributes.set_member_id(meta.member_id);
  attributes.set_name(meta.name);
  std::string listed;
  for (const std::string& url : advertised_client_urls) {
    attributes.add_client_urls(url);
    listed += (listed.empty() ? "" : ",") + url;
  }
  // A failed proposal (no leader yet, a leader change) is tried again at the watcher's next look.
  runner->propose(kv::encode_command(attributes), [this, listed](const Result<std::string>& result) {
    if (result.is_ok()) {
      published.store(true);
      log().info("event=published client_urls={}", listed);
    }
    publishing.store(false);
  });
}

void Server::stop() {
  Parts& p = *parts_;
  {
    std::lock_guard<std::mutex> lock(p.watcher_mutex);
    if (p.stopped) return;
    p.stopped = true;
    p.stopping = true;
  }
  p.watcher_wake.notify_all();
  if (p.watcher.joinable()) p.watcher.join();
  // The node first: its pending requests fail, so the gRPC calls waiting on them finish and the gRPC
  // server can shut down without waiting out its deadline.
  p.inbox = nullptr;
  if (p.lessor) p.lessor->stop();
  if (p.runner) p.runner->stop();
  if (p.services) p.services->close_streams();
  // Unary calls were all answered when the node stopped; what remains are streams (keep-alives,
  // watches the services did not close), which a stopping member cancels rather than waits for.
  if (p.grpc_server)
    p.grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  p.http.reset();
  p.transport.reset();
  p.grpc_server.reset();
  p.services.reset();
  p.backend.reset();
  p.runner.reset();
  p.store.reset();
  p.watches.reset();
  p.lessor.reset();
  p.storage.reset();
}

Status Server::failure() const {
  return parts_->runner ? parts_->runner->failure() : Status(ErrorCode::kUnavailable, "stopped");
}

const std::vector<uint16_t>& Server::client_ports() const {
  return parts_->client_ports;
}

uint64_t Server::member_id() const {
  return parts_->meta.member_id;
}

uint16_t Server::peer_port() const {
  return parts_->transport ? parts_->transport->port() : 0;
}

uint16_t Server::metrics_port() const {
  return parts_->metrics_port;
}

namespace {

std::string describe(const transport::TransportEvent& event) {
  return "event=peer " + event.to_string();
}

}  // namespace

int run_until_signalled(const ServerConfig& config) {
  // Every thread started from here on inherits the blocked signals; only sigtimedwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  log().info("event=starting version={} engine={} data_dir={}", SYNOD_VERSION, engine_name(config.engine),
             config.data_dir);
  Result<std::unique_ptr<Server>> started = Server::start(config);
  if (!started.is_ok()) {
    log().critical("event=start-failed error=\"{}\"", started.status().to_string());
    return 1;
  }
  Server& server = *started.value();
  std::string clients;
  for (size_t i = 0; i < server.client_ports().size(); ++i) {
    clients +=
        (i ? "," : "") + config.listen_client_urls[i].host + ":" + std::to_string(server.client_ports()[i]);
  }
  log().info("event=serving clients={} peers={}:{} metrics={}", clients, config.listen_peer_urls.front().host,
             server.peer_port(), server.metrics_port() ? std::to_string(server.metrics_port()) : "off");

  int exit_code = 0;
  while (true) {
    timespec timeout{0, 100'000'000};
    int received = sigtimedwait(&signals, nullptr, &timeout);
    if (received == SIGTERM || received == SIGINT) {
      log().info("event=stopping signal={}", received == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (!server.failure().is_ok()) {
      exit_code = 1;
      break;
    }
  }
  server.stop();
  log().info("event=stopped exit={}", exit_code);
  return exit_code;
}

}  // namespace synod::server
