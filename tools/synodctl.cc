// synodctl: operator commands.
//
//   synodctl wal verify DIR
//     Reads a member's data directory without changing it and reports what recovery would find: the
//     log's segments, entries and hard state, the snapshots, anything recovery would repair (a torn
//     tail), and any corruption with the file, offset and the way out. Exit 0 when the member would
//     start, 1 when it would refuse.
//
//   synodctl sem acquire NAME --permits N [--ttl S] [--endpoints host:port,...] [--timeout S] -- COMMAND...
//     Takes one of N permits of the semaphore NAME (client/semaphore.h, docs/semaphore.md), runs COMMAND
//     with SYNOD_SEM_TOKEN (the fencing token), SYNOD_SEM_KEY and SYNOD_SEM_LEASE in its environment
//     while keeping the permit's lease alive, and releases the permit when COMMAND exits. Exit status:
//     COMMAND's (128 + signal if a signal ended it); 1 when no permit was acquired (timeout, no
//     cluster, another permit count in force); 3 when the lease was lost while COMMAND ran (COMMAND is
//     then sent SIGTERM, and SIGKILL after --kill-grace); 128 + signal when a signal ended the wait.
//
//   synodctl sem status NAME [--endpoints ...]
//     The permit count, the contenders entitled to a permit and those waiting.
//
// Exit 2 on bad usage.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "client/etcd_connection.h"
#include "client/etcd_session.h"
#include "client/guarded_command.h"
#include "client/lease_keeper.h"
#include "client/semaphore.h"
#include "client/semaphore_status.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"

namespace {

using namespace std::chrono_literals;
namespace client = synod::client;

int verify(std::string dir) {
  synod::storage::PosixFileSystem fs;
  // A `synod` --data-dir keeps the log one level down, next to its synod.meta.
  if (!fs.exists(dir + "/wal") && fs.exists(dir + "/member/wal")) dir += "/member";
  if (!fs.exists(dir + "/wal")) {
    std::cerr << "synodctl: " << dir << "/wal does not exist: not a Synod data directory\n";
    return 1;
  }
  synod::storage::DiskStorageOptions options;
  options.dir = dir;
  options.read_only = true;
  synod::DurableState state;
  std::vector<std::string> notes;
  auto opened = synod::storage::DiskStorage::open(fs, options, state, notes);
  for (const std::string& note : notes) std::cout << "note: " << note << '\n';
  if (!opened.is_ok()) {
    std::cout << "CORRUPT: " << opened.status().message() << '\n';
    return 1;
  }
  synod::storage::DiskStorage& storage = *opened.value();
  std::cout << "cluster " << storage.cluster_id() << ", node " << storage.node_id() << '\n';
  std::vector<std::string> segments = storage.wal().segment_names();
  std::cout << "segments: " << segments.size();
  if (!segments.empty()) std::cout << " (" << segments.front() << " .. " << segments.back() << ")";
  std::cout << '\n';
  if (state.snapshot) {
    std::cout << "snapshot: index " << state.snapshot->meta.index << ", term " << state.snapshot->meta.term
              << ", " << state.snapshot->data.size() << " bytes\n";
  } else {
    std::cout << "snapshot: none\n";
  }
  if (state.entries.empty()) {
    std::cout << "entries: none after the snapshot\n";
  } else {
    std::cout << "entries: " << state.entries.front().index << " .. " << state.entries.back().index
              << " (last term " << state.entries.back().term << ")\n";
  }
  std::cout << "hard state: term " << state.hard_state.term << ", vote " << state.hard_state.vote
            << ", commit " << state.hard_state.commit << '\n';
  std::cout << (notes.empty() ? "OK" : "OK after the repairs noted above") << '\n';
  return 0;
}

// --- sem --------------------------------------------------------------------------------------------------

struct SemFlags {
  std::string name;
  int permits = 0;
  int64_t ttl = 10;
  std::string endpoints = "127.0.0.1:2379";
  double timeout = 0;  // 0: wait as long as it takes
  double dial_timeout = 5;
  double kill_grace = 2;
  std::vector<std::string> command;
};

client::Deadline after_seconds(double seconds) {
  return client::Clock::now() +
         std::chrono::duration_cast<client::Clock::duration>(std::chrono::duration<double>(seconds));
}

// Signals are taken by one thread (sigwait) rather than handlers: a signal then ends a wait for a permit
// through a Cancellation (the contender's key is removed on the way out), and while the command runs it
// is passed on to the command.
class SignalWatch {
 public:
  // Before any other thread exists, so that every thread inherits the mask.
  SignalWatch() {
    sigemptyset(&signals_);
    for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals_, number);
    ::pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    // Lives until the process exits, blocked in sigwait; nothing to join.
    std::thread([this] {
      while (true) {
        int number = 0;
        if (::sigwait(&signals_, &number) != 0) continue;
        received_ = number;
        pending_ = number;
        interrupted_.cancel(std::string("interrupted by ") + ::strsignal(number));
      }
    }).detach();
  }
  client::Cancellation& interrupted() { return interrupted_; }
  int received() const { return received_; }
  int take_pending() { return pending_.exchange(0); }

 private:
  sigset_t signals_{};
  std::atomic<int> received_{0};
  std::atomic<int> pending_{0};
  client::Cancellation interrupted_;
};

std::unique_ptr<client::EtcdConnection> connect(const std::string& endpoints) {
  synod::Result<std::vector<std::string>> parsed = client::parse_endpoints(endpoints);
  if (!parsed.is_ok()) {
    std::cerr << "synodctl: --endpoints: " << parsed.status().message() << "\n";
    return nullptr;
  }
  return std::make_unique<client::EtcdConnection>(client::ConnectionOptions{parsed.value()});
}

int sem_acquire(const SemFlags& flags, SignalWatch& signals) {
  std::unique_ptr<client::EtcdConnection> connection = connect(flags.endpoints);
  if (!connection) return 2;
  synod::Result<std::unique_ptr<client::EtcdSession>> opened =
      client::EtcdSession::open(*connection, std::chrono::seconds(flags.ttl),
                                after_seconds(flags.dial_timeout), &signals.interrupted());
  if (!opened.is_ok()) {
    if (signals.received() != 0) return 128 + signals.received();
    std::cerr << "synodctl: cannot get a lease from " << flags.endpoints << ": " << opened.status().message()
              << "\n";
    return 1;
  }
  client::EtcdSession& session = *opened.value();
  client::Semaphore semaphore(session, flags.name, flags.permits);
  client::Deadline deadline = flags.timeout > 0 ? after_seconds(flags.timeout) : client::no_deadline();
  synod::Result<client::Permit> acquired = semaphore.acquire(deadline, &signals.interrupted());
  if (!acquired.is_ok()) {
    (void)session.close(client::Clock::now() + 2s);
    if (signals.received() != 0) return 128 + signals.received();
    std::cerr << "synodctl: no permit of " << flags.name << ": " << acquired.status().message() << "\n";
    return 1;
  }
  client::Permit& permit = acquired.value();

  client::GuardedCommand command;
  command.argv = flags.command;
  command.environment = {{"SYNOD_SEM_TOKEN", std::to_string(permit.token())},
                         {"SYNOD_SEM_KEY", permit.key()},
                         {"SYNOD_SEM_LEASE", client::lease_hex(permit.lease())}};
  command.kill_grace = std::chrono::milliseconds(static_cast<int64_t>(flags.kill_grace * 1000));
  command.still_valid = [&permit] { return permit.valid(); };
  command.take_signal = [&signals] { return signals.take_pending(); };
  client::CommandOutcome outcome = client::run_guarded(command);
  if (!outcome.error.empty()) std::cerr << "synodctl: " << outcome.error << "\n";

  if (outcome.permit_lost) {
    std::cerr << "synodctl: lost the permit of " << flags.name << " (" << session.lost_reason()
              << "); the command was killed\n";
    (void)session.close(client::Clock::now() + 2s);
    return 3;
  }
  synod::Status released = permit.release(client::Clock::now() + 5s);
  if (!released.is_ok()) {
    std::cerr << "synodctl: could not release " << permit.key()
              << " (its lease will expire): " << released.message() << "\n";
  }
  (void)session.close(client::Clock::now() + 2s);
  return outcome.exit_code;
}

int sem_status(const SemFlags& flags) {
  std::unique_ptr<client::EtcdConnection> connection = connect(flags.endpoints);
  if (!connection) return 2;
  synod::Result<client::SemaphoreStatus> read =
      client::read_semaphore_status(*connection, flags.name, after_seconds(flags.dial_timeout));
  if (!read.is_ok()) {
    std::cerr << "synodctl: cannot read " << flags.name << ": " << read.status().message() << "\n";
    return 1;
  }
  const client::SemaphoreStatus& status = read.value();
  std::cout << flags.name << ": "
            << (status.permits ? std::to_string(*status.permits) + " permits"
                               : std::string("no permit count"))
            << ", " << status.holders.size() << " held, " << status.waiters.size() << " waiting (revision "
            << status.revision << ")\n";
  for (const auto& holder : status.holders) {
    std::cout << "  holder " << holder.key << " token " << holder.token << " lease "
              << client::lease_hex(holder.lease) << "\n";
  }
  for (const auto& waiter : status.waiters) {
    std::cout << "  waiter " << waiter.key << " token " << waiter.token << " lease "
              << client::lease_hex(waiter.lease) << "\n";
  }
  return 0;
}

void add_endpoint_flags(CLI::App& command, SemFlags& flags) {
  command
      .add_option("--endpoints", flags.endpoints, "Comma-separated client URLs of the cluster (host:port)")
      ->capture_default_str();
  command.add_option("--dial-timeout", flags.dial_timeout, "Seconds to keep trying to reach the cluster")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"synodctl: operator commands for Synod"};
  app.require_subcommand(1);

  CLI::App* wal = app.add_subcommand("wal", "Inspect a member's write-ahead log")->require_subcommand(1);
  std::string dir;
  CLI::App* verify_command = wal->add_subcommand(
      "verify", "Report what recovery would find in a data directory, without changing it");
  verify_command
      ->add_option("DIR", dir, "A member's --data-dir (or the directory under it holding wal/ and snap/)")
      ->required();

  SemFlags flags;
  CLI::App* sem = app.add_subcommand("sem", "A distributed semaphore with N permits")->require_subcommand(1);
  CLI::App* acquire = sem->add_subcommand("acquire", "Run a command while holding one permit");
  acquire->add_option("NAME", flags.name, "The semaphore's name (its keys are NAME and NAME/...)")
      ->required();
  acquire->add_option("--permits", flags.permits, "N, the number of permits (every contender must agree)")
      ->required()
      ->check(CLI::Range(1, 1'000'000));
  acquire->add_option("--ttl", flags.ttl, "Seconds the permit outlives this process if it dies")
      ->check(CLI::Range(int64_t{1}, int64_t{9'000'000'000}))
      ->capture_default_str();
  acquire->add_option("--timeout", flags.timeout, "Seconds to wait for a permit (0: as long as it takes)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  acquire
      ->add_option("--kill-grace", flags.kill_grace,
                   "Seconds between SIGTERM and SIGKILL if the permit is lost")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_endpoint_flags(*acquire, flags);
  acquire->add_option("COMMAND", flags.command, "The command to run, after --")->required();
  CLI::App* status = sem->add_subcommand("status", "Show the permit count, the holders and the waiters");
  status->add_option("NAME", flags.name, "The semaphore's name")->required();
  add_endpoint_flags(*status, flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);  // prints help, or the error and a hint
    return code == 0 ? 0 : 2;
  }
  if (verify_command->parsed()) return verify(dir);
  if (status->parsed()) return sem_status(flags);
  // Never destroyed: its thread may still touch it while the process exits.
  static SignalWatch* signals = new SignalWatch;
  return sem_acquire(flags, *signals);
}
