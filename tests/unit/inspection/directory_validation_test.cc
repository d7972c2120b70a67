// Directory rows: USCC per GB 32100-2015, required fields, normalisation.
#include <catch2/catch.hpp>

#include "directory_validation.h"

using namespace regsuite::inspection;
namespace v1 = regsuite::inspection::v1;

namespace {
v1::Enterprise Valid() {
  v1::Enterprise e;
  e.set_uscc("91350100m000100y43");
  e.set_name(" 福州某化工有限公司 ");
  e.set_industry("危险化学品");
  e.set_region_code("350100");
  return e;
}
}  // namespace

TEST_CASE("an enterprise row is normalised: upper-case USCC, trimmed name, operating by default") {
  v1::Enterprise e = Valid();
  REQUIRE(NormaliseEnterprise(e).ok());
  CHECK(e.uscc() == "91350100M000100Y43");
  CHECK(e.name() == "福州某化工有限公司");
  CHECK(e.operating_status() == v1::ENTERPRISE_STATUS_OPERATING);
}

TEST_CASE("an enterprise row with a wrong USCC check character is rejected naming uscc") {
  v1::Enterprise e = Valid();
  e.set_uscc("913100007109242800");
  absl::Status s = NormaliseEnterprise(e);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message().rfind("uscc:", 0) == 0);
}

TEST_CASE("missing industry or a malformed region code is rejected naming the field") {
  v1::Enterprise e = Valid();
  e.clear_industry();
  CHECK(NormaliseEnterprise(e).message() == "industry: is required");
  e = Valid();
  e.set_region_code("35010");
  CHECK(NormaliseEnterprise(e).message().rfind("region_code:", 0) == 0);
}

TEST_CASE("the 专精特新 tag and the specialised_sme flag imply each other") {
  v1::Enterprise e = Valid();
  e.add_tags("专精特新");
  REQUIRE(NormaliseEnterprise(e).ok());
  CHECK(e.specialised_sme());
  v1::Enterprise f = Valid();
  f.set_specialised_sme(true);
  REQUIRE(NormaliseEnterprise(f).ok());
  CHECK(f.tags_size() == 1);
}

TEST_CASE("an inspector needs a certificate number and expiry; conflicts must be valid USCCs") {
  v1::Inspector i;
  i.set_inspector_id("ZJ-001");
  i.set_name("张三");
  i.set_region_code("330100");
  i.set_certificate_expiry("2027-12-31");
  CHECK(NormaliseInspector(i).message().rfind("certificate_no:", 0) == 0);
  i.set_certificate_no("33010012345");
  i.add_conflict_usccs("91330100799655058b");
  REQUIRE(NormaliseInspector(i).ok());
  CHECK(i.conflict_usccs(0) == "91330100799655058B");
  i.add_conflict_usccs("913100007109242800");
  CHECK(NormaliseInspector(i).message().rfind("conflict_usccs:", 0) == 0);
  i.clear_conflict_usccs();
  i.set_certificate_expiry("2027-02-30");
  CHECK(NormaliseInspector(i).message().rfind("certificate_expiry:", 0) == 0);
}

TEST_CASE("a check item needs code, name and legal basis") {
  v1::CheckItem c;
  c.set_code("WHP-01");
  c.set_name("危化品储存");
  CHECK(NormaliseCheckItem(c).message() == "legal_basis: is required");
  c.set_legal_basis("《危险化学品安全管理条例》");
  CHECK(NormaliseCheckItem(c).ok());
}
