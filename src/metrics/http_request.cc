#include "metrics/http_request.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace synod::metrics {
namespace {

constexpr int kBadRequest = 400;
constexpr int kNotImplemented = 501;
constexpr int kVersionNotSupported = 505;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Field values may hold visible characters, spaces, tabs and obs-text, but no other control characters
// (a NUL or a bare CR there is how request smuggling starts).
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20U && u != 0x7FU);
  });
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The path of an origin-form ("/a?b") or absolute-form ("http://host/a?b") target; nullopt otherwise.
std::optional<std::string_view> target_path(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      std::string_view rest = target.substr(scheme.size());
      size_t path = rest.find_first_of("/?#");
      if (path == std::string_view::npos || rest[path] != '/') return "/";
      target = rest.substr(path);
      break;
    }
  }
  if (target.empty() || target[0] != '/') return std::nullopt;
  return target.substr(0, target.find_first_of("?#"));
}

// "HTTP/1.1" -> 1, "HTTP/1.0" -> 0; nullopt with `status` set when it is not HTTP/1.x.
std::optional<int> minor_version(std::string_view version, int& status) {
  bool shaped = version.size() == 8 && version.starts_with("HTTP/") && is_digit(version[5]) &&
                version[6] == '.' && is_digit(version[7]);
  if (!shaped) {
    status = kBadRequest;
    return std::nullopt;
  }
  if (version[5] != '1') {
    status = kVersionNotSupported;
    return std::nullopt;
  }
  return version[7] - '0';
}

std::optional<uint64_t> parse_content_length(std::string_view value) {
  if (value.empty() || !std::all_of(value.begin(), value.end(), is_digit)) return std::nullopt;
  uint64_t n = 0;
  for (char c : value) {
    auto digit = static_cast<uint64_t>(c - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::numeric_limits<uint64_t>::max();
    n = n * 10 + digit;
  }
  return n;
}

// Splits off the next line of `rest`, without its CRLF (or LF); nullopt if the line holds a bare CR.
std::optional<std::string_view> next_line(std::string_view& rest) {
  size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find('\r') != std::string_view::npos) return std::nullopt;
  return line;
}

}  // namespace

size_t leading_blank_bytes(std::string_view buffer) {
  size_t n = 0;
  while (n < buffer.size() && (buffer[n] == '\r' || buffer[n] == '\n')) ++n;
  return n;
}

size_t find_head_end(std::string_view buffer) {
  for (size_t lf = buffer.find('\n'); lf != std::string_view::npos; lf = buffer.find('\n', lf + 1)) {
    if (lf + 1 < buffer.size() && buffer[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < buffer.size() && buffer[lf + 1] == '\r' && buffer[lf + 2] == '\n') return lf + 3;
  }
  return std::string_view::npos;
}

HttpParseResult parse_request_head(std::string_view head) {
  HttpParseResult result;
  auto fail = [&result](int status) {
    result.error_status = status;
    return result;
  };
  std::string_view rest = head;
  std::optional<std::string_view> request_line = next_line(rest);
  if (!request_line) return fail(kBadRequest);

  // method SP request-target SP HTTP-version, single spaces.
  size_t sp1 = request_line->find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line->find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line->find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(kBadRequest);
  }
  std::string_view method = request_line->substr(0, sp1);
  std::string_view target = request_line->substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(method)) return fail(kBadRequest);
  bool visible = std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  std::optional<std::string_view> path = visible ? target_path(target) : std::nullopt;
  if (!path) return fail(kBadRequest);
  int version_status = 0;
  std::optional<int> minor = minor_version(request_line->substr(sp2 + 1), version_status);
  if (!minor) return fail(version_status);

  bool close = false;
  bool keep_alive = false;
  bool expect_continue = false;
  std::optional<uint64_t> content_length;
  while (!rest.empty()) {
    std::optional<std::string_view> line = next_line(rest);
    if (!line) return fail(kBadRequest);
    if (line->empty()) break;  // the head's final empty line
    // No whitespace before the colon, and no obsolete line folding (RFC 9112 5.1, 5.2).
    size_t colon = line->find(':');
    if (colon == std::string_view::npos) return fail(kBadRequest);
    std::string_view name = line->substr(0, colon);
    std::string_view value = trim(line->substr(colon + 1));
    if (!is_token(name) || !is_field_value(value)) return fail(kBadRequest);

    if (iequals(name, "content-length")) {
      std::optional<uint64_t> length = parse_content_length(value);
      if (!length || (content_length && *content_length != *length)) return fail(kBadRequest);
      content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
      return fail(kNotImplemented);  // a chunked body we would have to parse just to skip it
    } else if (iequals(name, "connection")) {
      while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view option = trim(value.substr(0, comma));
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
        close = close || iequals(option, "close");
        keep_alive = keep_alive || iequals(option, "keep-alive");
      }
    } else if (iequals(name, "expect")) {
      expect_continue = iequals(value, "100-continue");
    }
  }

  result.head.method = std::string(method);
  result.head.path = std::string(*path);
  result.head.content_length = content_length.value_or(0);
  result.head.keep_alive = !close && (*minor >= 1 || keep_alive);
  // Such a client may or may not send its body after our answer; only closing keeps the framing certain.
  if (expect_continue && result.head.content_length > 0) result.head.keep_alive = false;
  return result;
}

}  // namespace synod::metrics
