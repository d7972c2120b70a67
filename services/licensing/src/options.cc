#include "options.h"

#include "absl/strings/str_cat.h"

namespace regsuite::licensing {

using common::ConfigType;

void AddLicensingConfigKeys(common::ConfigSchema& schema) {
  LicensingOptions d;
  schema
      .Add("licensing.signing_key_file", ConfigType::kString, "",
           "PEM file of the bureau's Ed25519 certificate signing key (outside the repository); "
           "empty: no certificate can be issued")
      .Add("licensing.signing_key_id", ConfigType::kString, d.signing_key_id,
           "identifier of the signing key, written on every certificate (key rotation)")
      .Add("licensing.verification_public_keys_dir", ConfigType::kString, "",
           "folder of PEM Ed25519 public keys of earlier signing keys, one <key id>.pem each: "
           "VerifyCertificate checks a certificate with the key its key_id names (the signing "
           "key or one of these); an unknown key id is not genuine")
      .Add("licensing.certificate_no_prefix", ConfigType::kString, d.certificate_no_prefix,
           "first part of certificate numbers <prefix>-<permit type>-<year>-<6-digit sequence>")
      .Add("licensing.decision_no_prefix", ConfigType::kString, d.decision_no_prefix,
           "prefix of generated decision numbers <prefix>〔<year>〕<n>号")
      .Add("licensing.credit_cache_ttl", ConfigType::kDuration, "60s",
           "how long a CreditService.CheckSubject answer is cached in Redis (ListingChanged "
           "invalidates it earlier)")
      .Add("licensing.credit_timeout", ConfigType::kDuration, "300ms",
           "deadline of the credit check of an instant approval; past it: normal review")
      .Add("licensing.notice_working_days", ConfigType::kInt, absl::StrCat(d.notice_working_days),
           "WD to tell an applicant every defect, else accepted on receipt (行政许可法 Art 32)")
      .Add("licensing.certificate_issue_working_days", ConfigType::kInt,
           absl::StrCat(d.certificate_issue_working_days),
           "WD after approval to issue the certificate (Art 44)")
      .Add("licensing.commitment_check_working_days", ConfigType::kInt,
           absl::StrCat(d.commitment_check_working_days),
           "WD after an instant approval by which the post-approval check (事后核查) is due")
      .Add("licensing.renewal_min_days_before_expiry", ConfigType::kInt,
           absl::StrCat(d.renewal_min_days_before_expiry),
           "renewal must be applied for at least this many days before expiry (Art 50)")
      .Add("licensing.expiry_reminder_days", ConfigType::kInt, absl::StrCat(d.expiry_reminder_days),
           "days before expiry at which one reminder per certificate is emitted (local: 3 months)")
      .Add("licensing.deadline_job_interval", ConfigType::kDuration, "10m",
           "how often the in-process deadline job (RunDeadlines for today) runs; 0 disables it")
      .Add("licensing.remedy_notice", ConfigType::kString, d.remedy_notice,
           "notice of the right to 行政复议 / 行政诉讼 given with every denial (Art 38)");
}

LicensingOptions ReadLicensingOptions(const common::Config& config) {
  LicensingOptions o;
  o.signing_key_file = config.GetString("licensing.signing_key_file");
  o.signing_key_id = config.GetString("licensing.signing_key_id");
  o.verification_public_keys_dir = config.GetString("licensing.verification_public_keys_dir");
  o.certificate_no_prefix = config.GetString("licensing.certificate_no_prefix");
  o.decision_no_prefix = config.GetString("licensing.decision_no_prefix");
  o.credit_cache_ttl = config.GetDuration("licensing.credit_cache_ttl");
  o.credit_timeout = config.GetDuration("licensing.credit_timeout");
  o.notice_working_days = static_cast<int>(config.GetInt("licensing.notice_working_days"));
  o.certificate_issue_working_days =
      static_cast<int>(config.GetInt("licensing.certificate_issue_working_days"));
  o.commitment_check_working_days =
      static_cast<int>(config.GetInt("licensing.commitment_check_working_days"));
  o.renewal_min_days_before_expiry =
      static_cast<int>(config.GetInt("licensing.renewal_min_days_before_expiry"));
  o.expiry_reminder_days = static_cast<int>(config.GetInt("licensing.expiry_reminder_days"));
  o.deadline_job_interval = config.GetDuration("licensing.deadline_job_interval");
  o.remedy_notice = config.GetString("licensing.remedy_notice");
  return o;
}

}  // namespace regsuite::licensing
