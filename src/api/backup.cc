#include "api/backup.h"

#include <openssl/sha.h>

#include "base/bytes.h"

namespace synod::api {

namespace {

constexpr std::string_view kMagic = "SYNODBK1";
constexpr size_t kAlign = 512;

std::string sha256(std::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

Status refused(const std::string& why) {
  return Status(ErrorCode::kCorruption, "not a Synod backup: " + why);
}

}  // namespace

std::string encode_backup(std::string_view snapshot) {
  ByteWriter out;
  out.put_bytes(kMagic);
  out.put_fixed64(snapshot.size());
  out.put_bytes(snapshot);
  std::string body = out.data();
  body.resize((body.size() + kAlign - 1) / kAlign * kAlign, '\0');
  return body + sha256(body);
}

Result<std::string> decode_backup(std::string_view backup) {
  if (backup.size() < kAlign + SHA256_DIGEST_LENGTH || (backup.size() - SHA256_DIGEST_LENGTH) % kAlign != 0) {
    return refused("its size (" + std::to_string(backup.size()) + " bytes) is not a padded backup's");
  }
  std::string_view body = backup.substr(0, backup.size() - SHA256_DIGEST_LENGTH);
  if (sha256(body) != backup.substr(body.size())) return refused("the SHA-256 checksum does not match");
  if (!body.starts_with(kMagic)) return refused("it does not start with " + std::string(kMagic));
  ByteReader in(body.substr(kMagic.size()));
  Result<uint64_t> length_field = in.fixed64();
  if (!length_field.is_ok() || length_field.value() > body.size() - kMagic.size() - 8) {
    return refused("its length field is damaged");
  }
  uint64_t length = length_field.value();
  std::string_view rest = body.substr(kMagic.size() + 8);
  std::string_view padding = rest.substr(length);
  if (padding.size() >= kAlign || padding.find_first_not_of('\0') != std::string_view::npos) {
    return refused("its padding is damaged");
  }
  return std::string(rest.substr(0, length));
}

}  // namespace synod::api
