#pragma once
// The licensing.* configuration keys (local numbers and the signing key).

#include <string>

#include "absl/time/time.h"
#include "regsuite/common/config.h"

namespace regsuite::licensing {

/// Settings of the licensing logic; defaults are DOMAIN.md's seeds.
struct LicensingOptions {
  std::string signing_key_file;
  std::string signing_key_id = "bureau-ed25519-1";
  // Folder of `<key id>.pem` public keys of earlier signing keys (rotation); may be empty.
  std::string verification_public_keys_dir;
  std::string certificate_no_prefix = "QDYJ";
  std::string decision_no_prefix = "青应急许";
  absl::Duration credit_cache_ttl = absl::Seconds(60);
  absl::Duration credit_timeout = absl::Milliseconds(300);
  int notice_working_days = 5;
  int certificate_issue_working_days = 10;
  int commitment_check_working_days = 20;
  int renewal_min_days_before_expiry = 30;
  int expiry_reminder_days = 90;
  absl::Duration deadline_job_interval = absl::Minutes(10);
  std::string remedy_notice =
      "如不服本决定，可自收到本决定书之日起六十日内依法申请行政复议，或者自收到本决定书之日起"
      "六个月内依法向人民法院提起行政诉讼。";
};

/// Adds the licensing.* keys to the binary's schema.
void AddLicensingConfigKeys(common::ConfigSchema& schema);
LicensingOptions ReadLicensingOptions(const common::Config& config);

}  // namespace regsuite::licensing
