#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "regsuite/common/signing.h"

namespace regsuite::gateway {

/// The signature headers of API.md, parsed and checked for form.
struct SignatureHeaders {
  std::string app_key;
  int64_t timestamp = 0;
  std::string nonce;
  common::SignatureMethod method = common::SignatureMethod::kHmacSha256;
  std::string signature;
};

/// Parses x-app-key, x-timestamp, x-nonce, x-signature-method, x-signature. Errors are
/// UNAUTHENTICATED naming the header and rule. Pure: the libFuzzer target
/// tests/fuzz/fuzz_signature_headers.cc feeds it arbitrary headers.
absl::StatusOr<SignatureHeaders> ParseSignatureHeaders(
    const std::multimap<std::string, std::string>& headers);

/// UNAUTHENTICATED "<header>: <rule>".
absl::Status Unauthenticated(absl::string_view header, absl::string_view rule);

}  // namespace regsuite::gateway
