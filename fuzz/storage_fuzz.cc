// storage_fuzz: a libFuzzer target for the decoders of everything Synod reads back from a disk or a log
// entry. None of them may crash, hang or allocate without bound on arbitrary bytes: they return errors.
//
// Input: the first byte picks what to exercise (byte % 6), the rest is the data:
//   0 records   decode_record() walked over the data the way recovery walks a segment
//   1 segment   decode_segment_header() and parse_segment_name() (the data as a file name)
//   2 snapshot  decode_snapshot_file(), and SnapshotStore::load_newest() over the data as a file
//   3 wal       a full Wal::open() recovery on an in-memory disk whose WAL holds one segment: a valid
//               header followed by the data (after one flags byte, see fuzz_wal()). This is the one that
//               reaches the torn-tail and corruption logic.
//   4 commands  MapCommand::decode(), MapResult::decode(), node::unwrap_command()
//   5 wire      the peer wire format: frames cut by a FrameDecoder, then decode_message/decode_hello
// Where it is cheap, what decodes must also round-trip, and a recovered log must read back, take an
// append and recover again with that append; a broken invariant aborts like a crash.
//
// `storage_fuzz --make-corpus=DIR` writes a seed corpus (valid inputs of each kind and torn or damaged
// variants) into DIR and exits; scripts/fuzz runs it before fuzzing.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "kv/map_command.h"
#include "node/node.h"
#include "sim/faulty_file_system.h"
#include "storage/record.h"
#include "storage/segment.h"
#include "storage/snapshot_store.h"
#include "storage/wal.h"
#include "transport/wire.h"

namespace synod::fuzz {
namespace {

using storage::DecodedRecord;

enum Mode : uint8_t {
  kRecords = 0,
  kSegment = 1,
  kSnapshot = 2,
  kWal = 3,
  kCommands = 4,
  kWire = 5,
  kModes = 6
};

// Inputs past this are cut: memory stays bounded whatever -max_len says.
constexpr size_t kMaxInput = size_t{1} << 20U;

constexpr uint64_t kClusterId = 0x5eed;
constexpr NodeId kNodeId = 3;
constexpr std::string_view kWalDir = "wal";
constexpr std::string_view kSnapDir = "snap";

// The WAL mode's flags byte.
constexpr uint8_t kFirstIndexMask = 0x03;  // the segment's first index: kFirstIndexChoices[flags & 3]
constexpr uint8_t kSealed = 0x04;          // a valid segment follows, so the fuzzed one is sealed
constexpr uint8_t kAppendAfter = 0x08;     // after a recovery: append, reopen, compare
constexpr uint8_t kLeftoverTemp = 0x10;    // a ".tmp" segment a crash left behind
constexpr Index kFirstIndexChoices[4] = {1, 2, 1000, 0};

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "storage_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

storage::WalOptions wal_options() {
  storage::WalOptions options;
  options.dir = std::string(kWalDir);
  options.cluster_id = kClusterId;
  options.node_id = kNodeId;
  options.segment_bytes = uint64_t{64} << 10U;  // small: recovery reads it all
  return options;
}

std::string segment_header(uint64_t sequence, Index first_index) {
  return storage::encode_segment_header(
      storage::SegmentHeader{storage::kWalFormatVersion, kClusterId, kNodeId, sequence, first_index});
}

void write_file(sim::FaultyFileSystem& fs, const std::string& path, std::string_view bytes) {
  Result<std::unique_ptr<storage::File>> file = fs.open(path, storage::OpenMode::kCreateNew);
  check(file.is_ok(), "the in-memory disk creates a file");
  check(file.value()->write_at(0, bytes).is_ok(), "the in-memory disk writes");
  check(file.value()->sync().is_ok(), "the in-memory disk syncs");
}

// --- 0: records -------------------------------------------------------------------------------------------

void fuzz_records(std::string_view data) {
  size_t offset = 0;
  while (offset < data.size()) {
    std::string_view rest = data.substr(offset);
    DecodedRecord decoded = storage::decode_record(rest);
    if (decoded.kind == DecodedRecord::Kind::kZeros) {
      std::string_view head = rest.substr(0, storage::kRecordHeaderBytes);
      check(head.find_first_not_of('\0') == std::string_view::npos, "kZeros only for a zero frame header");
    }
    if (decoded.kind != DecodedRecord::Kind::kRecord) break;
    check(decoded.size % storage::kRecordAlignment == 0, "a record's size is a multiple of 8");
    check(decoded.size >= storage::aligned_record_size(0), "a record holds at least its header");
    check(decoded.size <= rest.size(), "a record's size does not run past the data");
    std::string again;
    storage::encode_record(decoded.record, again);
    DecodedRecord redecoded = storage::decode_record(again);
    check(redecoded.kind == DecodedRecord::Kind::kRecord && redecoded.record == decoded.record &&
              redecoded.size == again.size(),
          "a decoded record re-encodes to itself");
    offset += decoded.size;
  }
}

// --- 1: segment header and name ---------------------------------------------------------------------------

void fuzz_segment(std::string_view data) {
  Result<storage::SegmentHeader> header = storage::decode_segment_header(data);
  if (header.is_ok()) {
    std::string again = storage::encode_segment_header(header.value());
    check(again.size() == storage::kSegmentHeaderBytes, "a segment header has its fixed size");
    constexpr size_t kChecked = 48;  // magic, version, four fixed64 fields, CRC: the rest is padding
    check(again.substr(0, kChecked) == data.substr(0, kChecked), "a segment header re-encodes to itself");
    Result<storage::SegmentHeader> redecoded = storage::decode_segment_header(again);
    check(redecoded.is_ok() && redecoded.value() == header.value(), "a segment header round-trips");
  }
  std::optional<std::pair<uint64_t, Index>> name = storage::parse_segment_name(data);
  if (name) check(storage::segment_name(name->first, name->second) == data, "a segment name round-trips");
  if (data.size() >= 16) {
    ByteReader in(data);
    uint64_t sequence = in.fixed64().value();
    uint64_t first = in.fixed64().value();
    std::optional<std::pair<uint64_t, Index>> parsed =
        storage::parse_segment_name(storage::segment_name(sequence, first));
    check(parsed && parsed->first == sequence && parsed->second == first, "segment_name() parses back");
  }
}

// --- 2: snapshot file -------------------------------------------------------------------------------------

void fuzz_snapshot(std::string_view data) {
  Result<Snapshot> snapshot = storage::decode_snapshot_file(data);
  if (snapshot.is_ok()) {
    Result<Snapshot> redecoded =
        storage::decode_snapshot_file(storage::encode_snapshot_file(snapshot.value()));
    check(redecoded.is_ok() && redecoded.value() == snapshot.value(), "a snapshot file round-trips");
  }
  // The same bytes as the only snapshot file, named after what they hold if they decode.
  sim::FaultyFileSystem fs;
  check(fs.make_dirs(std::string(kSnapDir)).is_ok(), "the in-memory disk makes a directory");
  Index index = snapshot.is_ok() ? snapshot.value().meta.index : 5;
  Term term = snapshot.is_ok() ? snapshot.value().meta.term : 2;
  char name[64];
  std::snprintf(name, sizeof(name), "%016llx-%016llx.snap", static_cast<unsigned long long>(index),
                static_cast<unsigned long long>(term));
  write_file(fs, storage::join_path(std::string(kSnapDir), name), data);
  storage::SnapshotStore store(fs, std::string(kSnapDir));
  std::vector<std::string> notes;
  check(store.open(notes).is_ok(), "a snapshot store opens");
  Result<std::optional<Snapshot>> loaded = store.load_newest(notes);
  check(loaded.is_ok(), "load_newest() skips a damaged file rather than fail");
  if (snapshot.is_ok()) {
    check(loaded.value().has_value() && *loaded.value() == snapshot.value(), "a valid snapshot file loads");
  } else {
    check(!loaded.value().has_value() && notes.size() == 1, "a damaged snapshot file is skipped with a note");
  }
}

// --- 3: WAL recovery --------------------------------------------------------------------------------------

// What a successful recovery must have produced.
void check_recovered(storage::Wal& wal, const storage::WalContents& contents) {
  const std::vector<Entry>& entries = contents.entries;
  for (size_t i = 1; i < entries.size(); ++i) {
    check(entries[i].index == entries[i - 1].index + 1, "recovered entries are contiguous");
  }
  if (entries.empty()) return;
  check(wal.first_index() == entries.front().index, "first_index() is the first recovered entry");
  check(wal.last_index() == entries.back().index, "last_index() is the last recovered entry");
  if (wal.last_index() == UINT64_MAX) return;  // read()'s half-open range cannot name it
  Result<std::vector<Entry>> read = wal.read(wal.first_index(), wal.last_index() + 1);
  check(read.is_ok(), "every recovered entry reads back");
  check(read.value() == entries, "entries read back as recovered");
}

void fuzz_wal(std::string_view data) {
  uint8_t flags = data.empty() ? 0 : static_cast<uint8_t>(data[0]);
  if (!data.empty()) data.remove_prefix(1);
  Index first_index = kFirstIndexChoices[flags & kFirstIndexMask];
  storage::WalOptions options = wal_options();

  sim::FaultyFileSystem fs;
  check(fs.make_dirs(options.dir).is_ok(), "the in-memory disk makes a directory");
  std::string segment = segment_header(1, first_index);
  segment.append(data);
  write_file(fs, storage::join_path(options.dir, storage::segment_name(1, first_index)), segment);
  uint64_t next_sequence = 2;
  if ((flags & kSealed) != 0) {
    // A valid, empty last segment as Wal::start_segment() writes one.
    std::string last = segment_header(next_sequence, first_index);
    storage::encode_record(storage::BatchRecord{0, 1}, last);
    storage::encode_record(HardState{}, last);
    write_file(fs, storage::join_path(options.dir, storage::segment_name(next_sequence, first_index)), last);
    ++next_sequence;
  }
  if ((flags & kLeftoverTemp) != 0) {
    write_file(fs,
               storage::join_path(options.dir, storage::segment_name(next_sequence, first_index) + ".tmp"),
               segment_header(next_sequence, first_index));
  }

  storage::WalContents contents;
  Result<std::unique_ptr<storage::Wal>> opened = storage::Wal::open(fs, options, contents);
  if (!opened.is_ok()) return;  // refusing a damaged log is the right answer
  std::unique_ptr<storage::Wal> wal = std::move(opened).value();
  check(wal->failure().is_ok(), "a recovered log has not failed");
  check_recovered(*wal, contents);

  // An append after recovery (in particular after a torn tail was cut) must survive a reopen. Only
  // where the API allows one: entries must follow the snapshot marker.
  if ((flags & kAppendAfter) == 0) return;
  Index last = wal->last_index();
  if (contents.snapshot.index > last || last >= (uint64_t{1} << 62U)) return;
  size_t segments = wal->segment_count();
  Entry entry{contents.hard_state.term + 1, last + 1, EntryType::kNormal, "appended"};
  HardState hard_state{contents.hard_state.term + 1, kNodeId, contents.hard_state.commit};
  check(wal->append({entry}, hard_state).is_ok(), "an append to a recovered log succeeds");
  check(wal->last_index() == entry.index, "the append moved last_index()");
  // A new segment repeats the snapshot marker, which a log the writer could not have made (an entry
  // at or before the marker rewritten) may read differently: compare only within one segment.
  bool same_segment = wal->segment_count() == segments;
  wal.reset();

  storage::WalContents again;
  Result<std::unique_ptr<storage::Wal>> reopened = storage::Wal::open(fs, options, again);
  check(reopened.is_ok(), "a log that recovered and took an append recovers again");
  check_recovered(*reopened.value(), again);
  check(again.hard_state == hard_state, "the appended hard state is recovered");
  if (!same_segment) return;
  std::vector<Entry> expected = contents.entries;
  expected.push_back(entry);
  check(again.entries == expected, "the recovered entries are the earlier ones plus the appended one");
  check(again.snapshot == contents.snapshot, "the snapshot marker is recovered");
}

// --- 4: commands ------------------------------------------------------------------------------------------

void fuzz_commands(std::string_view data) {
  Result<kv::MapCommand> command = kv::MapCommand::decode(data);
  if (command.is_ok()) {
    Result<kv::MapCommand> redecoded = kv::MapCommand::decode(command.value().encode());
    check(redecoded.is_ok() && redecoded.value() == command.value(), "a map command round-trips");
  }
  Result<kv::MapResult> result = kv::MapResult::decode(data);
  if (result.is_ok()) {
    Result<kv::MapResult> redecoded = kv::MapResult::decode(result.value().encode());
    check(redecoded.is_ok() && redecoded.value() == result.value(), "a map result round-trips");
  }
  std::optional<node::Envelope> envelope = node::unwrap_command(data);
  if (envelope) {
    check(envelope->command.size() <= data.size(), "an envelope's command lies inside the data");
    std::string wrapped =
        node::wrap_command(envelope->origin, envelope->incarnation, envelope->request, envelope->command);
    std::optional<node::Envelope> again = node::unwrap_command(wrapped);
    check(again && again->origin == envelope->origin && again->incarnation == envelope->incarnation &&
              again->request == envelope->request && again->command == envelope->command,
          "an envelope round-trips");
  }
}

// --- the seed corpus --------------------------------------------------------------------------------------

// A segment body (without its header) as the real Wal writes it: recovery-shaped bytes to start from.
// Returns the file's bytes past the header, cut after the last non-zero record.
std::string wal_written_body(bool with_snapshot) {
  sim::FaultyFileSystem fs;
  storage::WalOptions options = wal_options();
  storage::WalContents contents;
  std::unique_ptr<storage::Wal> wal = storage::Wal::open(fs, options, contents).value();
  for (Index i = 1; i <= 6; i += 2) {
    std::vector<Entry> entries = {{1, i, EntryType::kNormal, "put k" + std::to_string(i)},
                                  {1, i + 1, i == 1 ? EntryType::kNoop : EntryType::kNormal, "v"}};
    check(wal->append(entries, HardState{1, kNodeId, i}).is_ok(), "corpus: append");
  }
  check(wal->append({{2, 5, EntryType::kNormal, "overwrite"}}, HardState{2, 1, 4}).is_ok(),
        "corpus: overwrite");
  if (with_snapshot) check(wal->append_snapshot({4, 1}).is_ok(), "corpus: snapshot marker");
  wal.reset();
  std::string file = fs.contents(storage::join_path(options.dir, storage::segment_name(1, 1))).value();
  file.resize(file.find_last_not_of('\0') + 1);
  file.resize((file.size() + storage::kRecordAlignment - 1) / storage::kRecordAlignment *
              storage::kRecordAlignment);
  return file.substr(storage::kSegmentHeaderBytes);
}

struct Seed {
  std::string name;
  std::string bytes;
};

std::string with_mode(Mode mode, std::string_view data) {
  std::string out(1, static_cast<char>(mode));
  out.append(data);
  return out;
}

void check_message_round_trip(std::string_view payload) {
  Result<Message> message = transport::decode_message(payload);
  if (!message.is_ok()) return;
  std::string encoded = transport::encode_message(message.value());
  Result<Message> again = transport::decode_message(encoded);
  if (!again.is_ok() || transport::encode_message(again.value()) != encoded) std::abort();
}

// Network input: a stream cut into frames (a bad frame ends it, as it closes a connection), each
// payload decoded as a message and as a hello; what decodes must survive a re-encode and decode.
void fuzz_wire(std::string_view data) {
  transport::FrameDecoder decoder(1 << 16);
  decoder.feed(data);
  for (int frames = 0; frames < 1000; ++frames) {
    Result<std::optional<std::string>> next = decoder.next();
    if (!next.is_ok() || !next.value()) break;
    const std::string& payload = *next.value();
    check_message_round_trip(payload);
    (void)transport::decode_hello(payload);
  }
  check_message_round_trip(data);  // the bytes as one payload, without framing
}

std::vector<Seed> make_seeds() {
  std::vector<Seed> seeds;
  auto add = [&](std::string name, Mode mode, std::string_view data) {
    seeds.push_back({std::move(name), with_mode(mode, data)});
  };

  // Records: each type, a batch as the log writes one, torn and damaged variants.
  std::vector<std::pair<std::string, storage::Record>> records = {
      {"batch", storage::BatchRecord{64, 7}},
      {"entry", Entry{3, 42, EntryType::kNormal, "some command bytes"}},
      {"noop", Entry{4, 43, EntryType::kNoop, ""}},
      {"hard-state", HardState{4, 2, 41}},
      {"snapshot", storage::SnapshotRecord{40, 3}},
  };
  std::string batch;
  for (const auto& [name, record] : records) {
    std::string one;
    storage::encode_record(record, one);
    add("record-" + name, kRecords, one);
    batch += one;
  }
  add("records-batch", kRecords, batch);
  add("records-torn", kRecords, std::string_view(batch).substr(0, batch.size() - 5));
  std::string flipped = batch;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  add("records-flipped", kRecords, flipped);
  add("records-zeros", kRecords, std::string(32, '\0'));

  // Segment headers and names.
  std::string header = segment_header(1, 1);
  add("segment-header", kSegment, header);
  add("segment-header-torn", kSegment, std::string_view(header).substr(0, 40));
  add("segment-name", kSegment, storage::segment_name(1, 1));
  add("segment-name-big", kSegment, storage::segment_name(0xfedcba9876543210ULL, 0x0123456789abcdefULL));

  // Snapshot files.
  Snapshot snapshot;
  snapshot.meta.index = 40;
  snapshot.meta.term = 3;
  snapshot.meta.conf.voters = {1, 2, 3};
  snapshot.data = "the state machine's bytes";
  std::string snap = storage::encode_snapshot_file(snapshot);
  add("snapshot", kSnapshot, snap);
  add("snapshot-torn", kSnapshot, std::string_view(snap).substr(0, snap.size() - 7));
  add("snapshot-empty", kSnapshot, storage::encode_snapshot_file(Snapshot{}));

  // WAL segments (after the flags byte), as the log writes them, then torn and damaged.
  for (bool with_snapshot : {false, true}) {
    std::string body = wal_written_body(with_snapshot);
    std::string prefix = with_snapshot ? "wal-snapshot" : "wal";
    for (uint8_t flags : {uint8_t{0}, kAppendAfter, uint8_t{kSealed | kLeftoverTemp}}) {
      std::string data(1, static_cast<char>(flags));
      add(prefix + "-flags" + std::to_string(flags), kWal, data + body);
    }
    std::string append(1, static_cast<char>(kAppendAfter));
    add(prefix + "-torn", kWal, append + body.substr(0, body.size() - 11));
    std::string damaged = body;
    damaged[body.size() / 3] = static_cast<char>(damaged[body.size() / 3] ^ 0x01);
    add(prefix + "-damaged", kWal, append + damaged);  // a later batch proves it was synced
    add(prefix + "-stray", kWal, append + body + std::string(24, '\0') + "stray");
  }
  add("wal-empty", kWal, std::string(1, static_cast<char>(kAppendAfter)));

  // Commands, results, envelopes.
  kv::MapCommand put{kv::MapOp::kPut, 7, 1, "key", "value", ""};
  kv::MapCommand cas{kv::MapOp::kCas, 7, 2, "key", "new", "value"};
  kv::MapCommand get{kv::MapOp::kGet, 0, 0, "key", "", ""};
  add("command-put", kCommands, put.encode());
  add("command-cas", kCommands, cas.encode());
  add("command-get", kCommands, get.encode());
  add("result-value", kCommands, kv::MapResult{kv::MapOutcome::kOk, true, "value"}.encode());
  add("result-stale", kCommands, kv::MapResult{kv::MapOutcome::kStale, false, std::nullopt}.encode());
  add("envelope", kCommands, node::wrap_command(2, 99, 5, cas.encode()));
  Message append;
  append.type = MessageType::kAppend;
  append.from = 1;
  append.to = 2;
  append.term = 3;
  append.entries = {Entry{3, 10, EntryType::kNormal, "data"}};
  add("wire-frames", kWire,
      transport::frame(transport::encode_hello(transport::Hello{transport::kWireVersion, 7, 1})) +
          transport::frame(transport::encode_message(append)));
  return seeds;
}

int make_corpus(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);  // an existing directory is fine
  std::vector<Seed> seeds = make_seeds();
  for (const Seed& seed : seeds) {
    std::string path = dir + "/seed-" + seed.name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(seed.bytes.data(), static_cast<std::streamsize>(seed.bytes.size()));
    if (!out) {
      std::fprintf(stderr, "storage_fuzz: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("storage_fuzz: wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}

}  // namespace
}  // namespace synod::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  constexpr std::string_view kFlag = "--make-corpus=";
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = (*argv)[i];
    if (arg.substr(0, kFlag.size()) == kFlag)
      std::exit(synod::fuzz::make_corpus(std::string(arg.substr(kFlag.size()))));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace synod::fuzz;
  if (size == 0) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes), std::min(size, kMaxInput));
  auto mode = static_cast<Mode>(static_cast<uint8_t>(data[0]) % kModes);
  data.remove_prefix(1);
  switch (mode) {
    case kRecords: fuzz_records(data); break;
    case kSegment: fuzz_segment(data); break;
    case kSnapshot: fuzz_snapshot(data); break;
    case kWal: fuzz_wal(data); break;
    case kCommands: fuzz_commands(data); break;
    case kWire: fuzz_wire(data); break;
    case kModes: break;
  }
  return 0;
}
