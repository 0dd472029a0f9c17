// synodctl: operator commands. For now, `synodctl wal verify DIR` reads a member's data directory
// without changing it and reports what recovery would find: the log's segments, entries and hard
// state, the snapshots, anything recovery would repair (a torn tail), and any corruption with the
// file, offset and the way out. Exit 0 when the member would start, 1 when it would refuse, 2 on bad
// usage.
#include <iostream>
#include <string>
#include <vector>

#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: synodctl wal verify DIR\n"
         "  DIR is a member's --data-dir (or the directory under it holding wal/ and snap/)\n";
}

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    usage(std::cout);
    return 0;
  }
  if (args.size() == 3 && args[0] == "wal" && args[1] == "verify") return verify(args[2]);
  usage(std::cerr);
  return 2;
}
