#include "server/server_config.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "base/hash.h"

namespace synod::server {

namespace {

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::string Url::text() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Url> parse_url(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with("https://") || rest.starts_with("unixs://")) {
    return invalid("URL '" + std::string(text) + "': TLS is not supported yet; use http://");
  }
  if (!rest.starts_with("http://")) {
    return invalid("URL '" + std::string(text) + "' must look like http://host:port");
  }
  rest.remove_prefix(7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  Url url;
  std::string_view port_text;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return invalid("URL '" + std::string(text) + "': an IPv6 host needs [addr]:port");
    }
    url.host = std::string(rest.substr(1, close - 1));
    port_text = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return invalid("URL '" + std::string(text) + "' has no port");
    url.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  }
  if (url.host.empty() || url.host.find('/') != std::string::npos) {
    return invalid("URL '" + std::string(text) + "' has no host, or a path (not supported)");
  }
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return invalid("URL '" + std::string(text) + "': port must be a number from 0 to 65535");
  }
  url.port = static_cast<uint16_t>(port);
  return url;
}

Result<std::vector<Url>> parse_urls(std::string_view text) {
  std::vector<Url> urls;
  for (std::string_view part : split(text, ',')) {
    SYNOD_TRY_ASSIGN(Url url, parse_url(part));
    urls.push_back(std::move(url));
  }
  return urls;
}

Result<std::vector<ClusterMember>> parse_initial_cluster(std::string_view text) {
  std::map<std::string, std::vector<Url>> by_name;
  for (std::string_view part : split(text, ',')) {
    size_t equals = part.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return invalid("--initial-cluster entry '" + std::string(part) +
                     "' must look like name=http://host:port");
    }
    SYNOD_TRY_ASSIGN(Url url, parse_url(part.substr(equals + 1)));
    by_name[std::string(part.substr(0, equals))].push_back(std::move(url));
  }
  std::vector<ClusterMember> members;
  for (auto& [name, urls] : by_name) {
    members.push_back(ClusterMember{name, NodeId(members.size() + 1), std::move(urls)});
  }
  return members;
}

uint64_t cluster_id_of(std::string_view token, const std::vector<ClusterMember>& members) {
  std::string identity(token);
  for (const ClusterMember& member : members) {
    identity += "|" + member.name;
    for (const Url& url : member.peer_urls) identity += "," + url.text();
  }
  uint64_t id = hash_bytes(identity);
  return id == 0 ? 1 : id;  // 0 means "unknown" on the wire
}

std::string_view engine_name(EngineKind engine) {
  return engine == EngineKind::kRaft ? "raft" : "paxos";
}

Result<EngineKind> parse_engine(std::string_view text) {
  if (text == "raft") return EngineKind::kRaft;
  if (text == "paxos") return EngineKind::kPaxos;
  return invalid("--engine must be raft or paxos, not '" + std::string(text) + "'");
}

Status ServerConfig::validate() const {
  if (name.empty()) return invalid("--name must not be empty");
  if (initial_cluster.empty()) return invalid("--initial-cluster is empty");
  auto found = std::find_if(initial_cluster.begin(), initial_cluster.end(),
                            [&](const ClusterMember& member) { return member.name == name; });
  if (found == initial_cluster.end()) {
    return invalid("--name '" + name + "' is not one of the members in --initial-cluster");
  }
  for (const Url& url : initial_advertise_peer_urls) {
    bool listed = std::any_of(found->peer_urls.begin(), found->peer_urls.end(),
                              [&](const Url& mine) { return mine.text() == url.text(); });
    if (!listed) {
      return invalid("--initial-advertise-peer-urls " + url.text() + " is not listed for '" + name +
                     "' in --initial-cluster");
    }
  }
  if (listen_peer_urls.empty()) return invalid("--listen-peer-urls is empty");
  if (listen_client_urls.empty()) return invalid("--listen-client-urls is empty");
  if (heartbeat_interval.count() <= 0) return invalid("--heartbeat-interval must be positive");
  // The same rule as etcd: an election timeout shorter than a few heartbeats makes followers start
  // elections whenever one heartbeat is late.
  if (election_timeout < 5 * heartbeat_interval) {
    return invalid("--election-timeout (" + std::to_string(election_timeout.count()) +
                   " ms) must be at least 5 times --heartbeat-interval (" +
                   std::to_string(heartbeat_interval.count()) + " ms)");
  }
  if (election_timeout > std::chrono::milliseconds(50'000)) {
    return invalid("--election-timeout must be at most 50000 ms");
  }
  if (max_request_bytes == 0 || max_request_bytes > (uint64_t{64} << 20U)) {
    return invalid("--max-request-bytes must be between 1 and 67108864");
  }
  if (max_txn_ops == 0 || max_txn_ops > 1'000'000)
    return invalid("--max-txn-ops must be between 1 and 1000000");
  static const char* kLevels[] = {"debug", "info", "warn", "error", "panic", "fatal"};
  if (std::none_of(std::begin(kLevels), std::end(kLevels),
                   [&](const char* level) { return log_level == level; })) {
    return invalid("--log-level must be one of debug, info, warn, error, panic, fatal");
  }
  return Status::ok();
}

const ClusterMember& ServerConfig::self() const {
  return *std::find_if(initial_cluster.begin(), initial_cluster.end(),
                       [&](const ClusterMember& member) { return member.name == name; });
}

int ServerConfig::election_ticks() const {
  return static_cast<int>(election_timeout / heartbeat_interval);
}

}  // namespace synod::server
