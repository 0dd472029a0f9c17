#include "server/member_dir.h"

#include <charconv>

namespace synod::server {

namespace {

constexpr const char* kMetaFile = "synod.meta";
constexpr const char* kFormat = "synod-member-v1";

Status damaged(size_t line, const std::string& why) {
  return Status(ErrorCode::kCorruption,
                std::string(kMetaFile) + " line " + std::to_string(line) + ": " + why);
}

Result<uint64_t> parse_number(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status(ErrorCode::kCorruption, "'" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

std::string MemberMeta::encode() const {
  std::string out = std::string("format=") + kFormat + "\n";
  out += "engine=" + engine + "\n";
  out += "cluster_id=" + std::to_string(cluster_id) + "\n";
  out += "member_id=" + std::to_string(member_id) + "\n";
  out += "name=" + name + "\n";
  out += "incarnation=" + std::to_string(incarnation) + "\n";
  for (const ClusterMember& member : members) {
    out += "member=" + std::to_string(member.id) + " " + member.name;
    for (const Url& url : member.peer_urls) out += " " + url.text();
    out += "\n";
  }
  out += "end\n";  // a file cut short is told apart from a complete one
  return out;
}

Result<MemberMeta> MemberMeta::decode(std::string_view text) {
  MemberMeta meta;
  bool format_seen = false;
  bool end_seen = false;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return damaged(line_number, "the file is cut short");
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    if (end_seen) return damaged(line_number, "text after the end marker");
    if (line == "end") {
      end_seen = true;
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) return damaged(line_number, "expected key=value");
    std::string_view key = line.substr(0, equals);
    std::string_view value = line.substr(equals + 1);
    auto number = [&](uint64_t& field) -> Status {
      Result<uint64_t> parsed = parse_number(value);
      if (!parsed.is_ok()) return damaged(line_number, parsed.status().message());
      field = parsed.value();
      return Status::ok();
    };
    Status status = Status::ok();
    if (key == "format") {
      if (value != kFormat) return damaged(line_number, "unknown format '" + std::string(value) + "'");
      format_seen = true;
    } else if (key == "engine") {
      meta.engine = std::string(value);
    } else if (key == "cluster_id") {
      status = number(meta.cluster_id);
    } else if (key == "member_id") {
      status = number(meta.member_id);
    } else if (key == "name") {
      meta.name = std::string(value);
    } else if (key == "incarnation") {
      status = number(meta.incarnation);
    } else if (key == "member") {
      ClusterMember member;
      size_t field = 0;
      size_t start = 0;
      while (start <= value.size()) {
        size_t space = value.find(' ', start);
        std::string_view part =
            value.substr(start, space == std::string_view::npos ? value.npos : space - start);
        if (field == 0) {
          Result<uint64_t> id = parse_number(part);
          if (!id.is_ok()) return damaged(line_number, id.status().message());
          member.id = id.value();
        } else if (field == 1) {
          member.name = std::string(part);
        } else {
          Result<Url> url = parse_url(part);
          if (!url.is_ok()) return damaged(line_number, url.status().message());
          member.peer_urls.push_back(url.value());
        }
        ++field;
        if (space == std::string_view::npos) break;
        start = space + 1;
      }
      if (field < 3) return damaged(line_number, "a member needs an id, a name and a peer URL");
      meta.members.push_back(std::move(member));
    } else {
      return damaged(line_number, "unknown key '" + std::string(key) + "'");
    }
    if (!status.is_ok()) return status;
  }
  if (!format_seen || !end_seen) return damaged(line_number, "the file is incomplete");
  if (meta.member_id == kNoNode || meta.cluster_id == 0 || meta.members.empty() || meta.incarnation == 0) {
    return damaged(line_number, "member id, cluster id, members and incarnation are required");
  }
  return meta;
}

std::string MemberDir::storage_dir() const {
  return storage::join_path(dir_, "member");
}

Result<std::optional<MemberMeta>> MemberDir::load() {
  std::string path = storage::join_path(dir_, kMetaFile);
  if (!fs_.exists(path)) return std::optional<MemberMeta>();
  SYNOD_TRY_ASSIGN(std::unique_ptr<storage::File> file, fs_.open(path, storage::OpenMode::kReadOnly));
  SYNOD_TRY_ASSIGN(uint64_t size, file->size());
  if (size > (1U << 20U)) return Status(ErrorCode::kCorruption, path + " is too large to be a member file");
  SYNOD_TRY_ASSIGN(std::string text, file->read_at(0, size));
  Result<MemberMeta> meta = MemberMeta::decode(text);
  if (!meta.is_ok()) return Status(meta.status().code(), dir_ + "/" + meta.status().message());
  return std::optional<MemberMeta>(std::move(meta).value());
}

Status MemberDir::save(const MemberMeta& meta) {
  SYNOD_TRY(fs_.make_dirs(dir_));
  std::string path = storage::join_path(dir_, kMetaFile);
  std::string temporary = path + ".tmp";
  if (fs_.exists(temporary)) SYNOD_TRY(fs_.remove(temporary));
  SYNOD_TRY_ASSIGN(std::unique_ptr<storage::File> file, fs_.open(temporary, storage::OpenMode::kCreateNew));
  SYNOD_TRY(file->write_at(0, meta.encode()));
  SYNOD_TRY(file->sync());
  SYNOD_TRY(fs_.rename(temporary, path));
  return fs_.sync_dir(dir_);
}

Result<MemberMeta> open_member(storage::FileSystem& fs, const ServerConfig& config,
                               std::vector<std::string>& notes) {
  MemberDir dir(fs, config.data_dir);
  SYNOD_TRY_ASSIGN(std::optional<MemberMeta> found, dir.load());
  MemberMeta meta;
  if (found) {
    meta = std::move(*found);
    if (meta.engine != engine_name(config.engine)) {
      return Status(ErrorCode::kInvalidArgument,
                    "the data dir " + config.data_dir + " was created with --engine " + meta.engine +
                        "; restarting it with --engine " + std::string(engine_name(config.engine)) +
                        " is refused (the log means different things to different engines)");
    }
    if (meta.name != config.name) {
      return Status(ErrorCode::kInvalidArgument, "the data dir " + config.data_dir + " belongs to member '" +
                                                     meta.name + "', not '" + config.name + "'");
    }
    notes.push_back("restarting member " + meta.name + " (id " + std::to_string(meta.member_id) +
                    ") from its data dir; the --initial-cluster flags are ignored");
  } else {
    if (!config.initial_cluster_new) {
      return Status(
          ErrorCode::kInvalidArgument,
          "--initial-cluster-state existing with an empty data dir: joining a running cluster needs "
          "membership changes, which Synod does not have yet");
    }
    meta.engine = std::string(engine_name(config.engine));
    meta.cluster_id = config.cluster_id();
    meta.member_id = config.self().id;
    meta.name = config.name;
    meta.members = config.initial_cluster;
    notes.push_back("starting new member " + meta.name + " (id " + std::to_string(meta.member_id) +
                    ") of a " + std::to_string(meta.members.size()) + "-member cluster");
  }
  ++meta.incarnation;
  SYNOD_TRY(dir.save(meta));
  return meta;
}

}  // namespace synod::server
