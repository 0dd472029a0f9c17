#include "check/history.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <utility>

namespace synod::check {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 9> kFields = {"client", "op",     "key",    "value", "expect",
                                                     "call",   "return", "status", "output"};
// Longest excerpt of a bad value quoted in an error message.
constexpr size_t kExcerptBytesMax = 40;

// Bytes outside printable ASCII become '?', so that a message about binary garbage stays one readable line.
std::string printable(std::string_view text, size_t bytes_max) {
  std::string out;
  for (char c : text.substr(0, bytes_max)) {
    auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (text.size() > bytes_max) out += "...";
  return out;
}

// What a JSON value is, for "must be a string, got ...". Never dumps a container: a deeply nested one
// would recurse.
std::string describe_json(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return "\"" + printable(value.get_ref<const std::string&>(), kExcerptBytesMax) + "\"";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return printable(value.dump(), kExcerptBytesMax);
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::binary:
    case Json::value_t::discarded: break;
  }
  return "an unexpected value";
}

Status line_error(size_t line_number, const std::string& what) {
  return {ErrorCode::kInvalidArgument, "line " + std::to_string(line_number) + ": " + what};
}

std::string quoted_field(std::string_view name) {
  return "\"" + std::string(name) + "\"";
}

// Reads a required string field. Returns nullopt and sets *error if it is missing or not a string.
std::optional<std::string> string_field(const Json& object, std::string_view name, std::string* error) {
  auto it = object.find(name);
  if (it == object.end()) {
    *error = "missing " + quoted_field(name);
    return std::nullopt;
  }
  if (!it->is_string()) {
    *error = quoted_field(name) + " must be a string, got " + describe_json(*it);
    return std::nullopt;
  }
  return it->get<std::string>();
}

// An integer that fits int64_t. Floats (even 100.0) and larger integers are refused.
std::optional<int64_t> as_int64(const Json& value) {
  if (value.is_number_unsigned()) {
    auto unsigned_value = value.get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(unsigned_value);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

std::optional<int64_t> integer_field(const Json& object, std::string_view name, std::string* error) {
  auto it = object.find(name);
  if (it == object.end()) {
    *error = "missing " + quoted_field(name);
    return std::nullopt;
  }
  std::optional<int64_t> number = as_int64(*it);
  if (!number) *error = quoted_field(name) + " must be an integer (64-bit), got " + describe_json(*it);
  return number;
}

std::optional<OpKind> kind_from_name(std::string_view name) {
  if (name == "get") return OpKind::kGet;
  if (name == "put") return OpKind::kPut;
  if (name == "delete") return OpKind::kDelete;
  if (name == "cas") return OpKind::kCas;
  return std::nullopt;
}

std::optional<OpStatus> status_from_name(std::string_view name) {
  if (name == "ok") return OpStatus::kOk;
  if (name == "fail") return OpStatus::kFail;
  if (name == "unknown") return OpStatus::kUnknown;
  return std::nullopt;
}

// nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 17: syntax error
// while parsing value - invalid literal; last read: '...'". Keep from "column" on; the line is ours.
std::string json_error_text(const std::string& what) {
  size_t column = what.find("column ");
  std::string_view text = what;
  if (column != std::string::npos) {
    text.remove_prefix(column);
  } else if (size_t bracket = what.find("] "); bracket != std::string::npos) {
    text.remove_prefix(bracket + 2);
  }
  return printable(text, 200);
}

// Parses the fields of one operation from a JSON object; *error says what is wrong on failure.
std::optional<Operation> operation_from_json(const Json& object, std::string* error) {
  for (const auto& item : object.items()) {
    if (std::find(kFields.begin(), kFields.end(), item.key()) == kFields.end()) {
      *error = "unknown field \"" + printable(item.key(), kExcerptBytesMax) + "\"";
      return std::nullopt;
    }
  }
  Operation operation;
  std::optional<std::string> op_name = string_field(object, "op", error);
  if (!op_name) return std::nullopt;
  std::optional<OpKind> kind = kind_from_name(*op_name);
  if (!kind) {
    *error =
        "unknown op \"" + printable(*op_name, kExcerptBytesMax) + "\" (expected get, put, delete or cas)";
    return std::nullopt;
  }
  operation.kind = *kind;
  std::string_view kind_name = op_kind_name(*kind);

  std::optional<int64_t> client = integer_field(object, "client", error);
  if (!client) return std::nullopt;
  operation.client = *client;
  std::optional<std::string> key = string_field(object, "key", error);
  if (!key) return std::nullopt;
  operation.key = std::move(*key);

  bool writes_value = *kind == OpKind::kPut || *kind == OpKind::kCas;
  if (writes_value) {
    std::optional<std::string> value = string_field(object, "value", error);
    if (!value) {
      if (!object.contains("value")) *error = std::string(kind_name) + " needs \"value\"";
      return std::nullopt;
    }
    operation.value = std::move(*value);
  } else if (object.contains("value")) {
    *error = std::string(kind_name) + " takes no \"value\"";
    return std::nullopt;
  }
  if (*kind == OpKind::kCas) {
    std::optional<std::string> expect = string_field(object, "expect", error);
    if (!expect) {
      if (!object.contains("expect")) *error = "cas needs \"expect\"";
      return std::nullopt;
    }
    operation.expect = std::move(*expect);
  } else if (object.contains("expect")) {
    *error = std::string(kind_name) + " takes no \"expect\"";
    return std::nullopt;
  }

  std::optional<int64_t> call = integer_field(object, "call", error);
  if (!call) return std::nullopt;
  operation.call = *call;
  auto return_it = object.find("return");
  if (return_it == object.end()) {
    *error = "missing \"return\" (use null if it never returned)";
    return std::nullopt;
  }
  if (!return_it->is_null()) {
    std::optional<int64_t> return_time = as_int64(*return_it);
    if (!return_time) {
      *error = "\"return\" must be an integer (64-bit) or null, got " + describe_json(*return_it);
      return std::nullopt;
    }
    operation.return_time = *return_time;
  }

  std::optional<std::string> status_name = string_field(object, "status", error);
  if (!status_name) return std::nullopt;
  std::optional<OpStatus> status = status_from_name(*status_name);
  if (!status) {
    *error =
        "unknown status \"" + printable(*status_name, kExcerptBytesMax) + "\" (expected ok, fail or unknown)";
    return std::nullopt;
  }
  operation.status = *status;

  // Outputs matter only for ok gets and cases; anywhere else "output" is ignored, whatever it holds.
  if (*status == OpStatus::kOk && (*kind == OpKind::kGet || *kind == OpKind::kCas)) {
    auto output = object.find("output");
    if (*kind == OpKind::kGet) {
      if (output == object.end()) {
        *error = "an ok get needs \"output\" (the value read, or null if the key was absent)";
        return std::nullopt;
      }
      if (!output->is_string() && !output->is_null()) {
        *error = "a get's \"output\" must be a string or null, got " + describe_json(*output);
        return std::nullopt;
      }
      if (output->is_string()) operation.read = output->get<std::string>();
    } else {
      if (output == object.end()) {
        *error = "an ok cas needs \"output\" (true if it wrote, false if the compare failed)";
        return std::nullopt;
      }
      if (!output->is_boolean()) {
        *error = "a cas's \"output\" must be true or false, got " + describe_json(*output);
        return std::nullopt;
      }
      operation.cas_succeeded = output->get<bool>();
    }
  }

  Status valid = validate_operation(operation);
  if (!valid.is_ok()) {
    *error = valid.message();
    return std::nullopt;
  }
  return operation;
}

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

std::string_view op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kGet: return "get";
    case OpKind::kPut: return "put";
    case OpKind::kDelete: return "delete";
    case OpKind::kCas: return "cas";
  }
  return "?";
}

std::string_view op_status_name(OpStatus status) {
  switch (status) {
    case OpStatus::kOk: return "ok";
    case OpStatus::kFail: return "fail";
    case OpStatus::kUnknown: return "unknown";
  }
  return "?";
}

Status validate_operation(const Operation& operation) {
  auto invalid = [](std::string what) { return Status(ErrorCode::kInvalidArgument, std::move(what)); };
  if (static_cast<uint8_t>(operation.kind) > static_cast<uint8_t>(OpKind::kCas)) {
    return invalid("unknown op kind " + std::to_string(static_cast<int>(operation.kind)));
  }
  if (static_cast<uint8_t>(operation.status) > static_cast<uint8_t>(OpStatus::kUnknown)) {
    return invalid("unknown status " + std::to_string(static_cast<int>(operation.status)));
  }
  if (operation.status == OpStatus::kOk && !operation.return_time) {
    return invalid("an ok operation needs a \"return\" time, not null");
  }
  if (operation.return_time && *operation.return_time < operation.call) {
    return invalid("\"return\" (" + std::to_string(*operation.return_time) + ") is before \"call\" (" +
                   std::to_string(operation.call) + ")");
  }
  if (operation.kind != OpKind::kGet && operation.read) return invalid("only a get has a value read");
  return Status::ok();
}

Result<Operation> parse_operation(std::string_view line, size_t line_number) {
  Json object;
  try {
    object = Json::parse(line.begin(), line.end());
  } catch (const Json::exception& error) {
    return line_error(line_number, "not valid JSON: " + json_error_text(error.what()));
  }
  if (!object.is_object())
    return line_error(line_number, "expected a JSON object, got " + describe_json(object));
  std::string error;
  std::optional<Operation> operation = operation_from_json(object, &error);
  if (!operation) return line_error(line_number, error);
  operation->line = line_number;
  return std::move(*operation);
}

Result<History> parse_history(std::string_view text) {
  History history;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (is_blank(line)) continue;
    Result<Operation> operation = parse_operation(line, line_number);
    if (!operation.is_ok()) return operation.status();
    history.push_back(std::move(operation).value());
  }
  return history;
}

std::string format_operation(const Operation& operation) {
  nlohmann::ordered_json object;
  object["client"] = operation.client;
  object["op"] = op_kind_name(operation.kind);
  object["key"] = operation.key;
  if (operation.kind == OpKind::kCas) object["expect"] = operation.expect;
  if (operation.kind == OpKind::kPut || operation.kind == OpKind::kCas) object["value"] = operation.value;
  object["call"] = operation.call;
  object["return"] = operation.return_time ? nlohmann::ordered_json(*operation.return_time) : nullptr;
  object["status"] = op_status_name(operation.status);
  if (operation.status == OpStatus::kOk && operation.kind == OpKind::kGet) {
    object["output"] = operation.read ? nlohmann::ordered_json(*operation.read) : nullptr;
  }
  if (operation.status == OpStatus::kOk && operation.kind == OpKind::kCas) {
    object["output"] = operation.cas_succeeded;
  }
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_history(std::ostream& out, const History& history) {
  for (const Operation& operation : history) out << format_operation(operation) << '\n';
}

std::string quote_value(const std::optional<std::string>& value) {
  if (!value) return "absent";
  std::string out = "\"";
  for (char c : *value) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4U];
      out += kHex[byte & 0xfU];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string describe_operation(const Operation& operation) {
  std::ostringstream out;
  out << "[" << operation.call << ", "
      << (operation.return_time ? std::to_string(*operation.return_time) : std::string("-")) << "] client "
      << operation.client << ": " << op_kind_name(operation.kind) << ' ' << quote_value(operation.key);
  switch (operation.kind) {
    case OpKind::kGet: break;
    case OpKind::kPut: out << " = " << quote_value(operation.value); break;
    case OpKind::kDelete: break;
    case OpKind::kCas:
      out << ' ' << quote_value(operation.expect) << "->" << quote_value(operation.value);
      break;
  }
  switch (operation.status) {
    case OpStatus::kOk:
      if (operation.kind == OpKind::kGet) out << " -> " << quote_value(operation.read);
      if (operation.kind == OpKind::kCas) out << " -> " << (operation.cas_succeeded ? "true" : "false");
      break;
    case OpStatus::kFail: out << " (failed: no effect)"; break;
    case OpStatus::kUnknown: out << " (outcome unknown)"; break;
  }
  return out.str();
}

}  // namespace synod::check
