// Base-data (法人库) rows: validation rules, duplicates, and the JSON-lines / CSV file formats.
#include "enterprise_import.h"

#include <catch2/catch.hpp>

namespace {

namespace v1 = regsuite::exchange::v1;
using regsuite::exchange::DirectoryEnterprise;

constexpr char kUscc[] = "91350100M000100Y43";

v1::EnterpriseRecord Good() {
  v1::EnterpriseRecord r;
  r.set_uscc(kUscc);
  r.set_name("福州某某化工有限公司");
  r.set_industry("C26");
  r.set_region_code("350100");
  r.set_registration_status("存续");
  r.set_established_date("2010-05-01");
  r.set_legal_representative("张三");
  return r;
}

std::string RuleOf(const v1::EnterpriseRecord& r) {
  auto e = DirectoryEnterprise(r);
  return e.ok() ? "ok" : std::string(e.status().message());
}

}  // namespace

TEST_CASE("a complete row becomes a directory enterprise from the exchange") {
  auto e = DirectoryEnterprise(Good());
  REQUIRE(e.ok());
  CHECK(e->uscc() == kUscc);
  CHECK(e->operating_status() == regsuite::inspection::v1::ENTERPRISE_STATUS_OPERATING);
  CHECK(e->source() == "exchange");
  CHECK(e->legal_representative() == "张三");
}

TEST_CASE("each rule names its field: USCC check character, required fields, formats") {
  auto r = Good();
  r.set_uscc("91350100M000100Y44");
  CHECK(RuleOf(r) == "uscc: check character mismatch");
  r = Good();
  r.set_name("  ");
  CHECK(RuleOf(r) == "name: is required");
  r = Good();
  r.clear_industry();
  CHECK(RuleOf(r) == "industry: is required");
  r = Good();
  r.set_region_code("3501");
  CHECK(RuleOf(r) == "region_code: must be a 6-digit administrative division code");
  r = Good();
  r.set_established_date("2010-02-30");
  CHECK(RuleOf(r) == "established_date: must be a YYYY-MM-DD date");
  r = Good();
  r.set_registration_status("不知道");
  CHECK(RuleOf(r).rfind("registration_status: unknown wording", 0) == 0);
  r = Good();
  r.set_registration_status("吊销");
  CHECK(DirectoryEnterprise(r)->operating_status() ==
        regsuite::inspection::v1::ENTERPRISE_STATUS_CLOSED);
}

TEST_CASE("a batch reports bad and repeated rows by index and keeps the good ones") {
  google::protobuf::RepeatedPtrField<v1::EnterpriseRecord> rows;
  *rows.Add() = Good();
  auto bad = Good();
  bad.set_uscc("123");
  *rows.Add() = bad;
  *rows.Add() = Good();  // same USCC again
  std::vector<int> index;
  std::vector<v1::RejectedRow> rejected;
  auto accepted = regsuite::exchange::ValidateEnterpriseRows(rows, &index, &rejected);
  REQUIRE(accepted.size() == 1);
  CHECK(index == std::vector<int>{0});
  REQUIRE(rejected.size() == 2);
  CHECK(rejected[0].row_index() == 1);
  CHECK(rejected[0].field() == "uscc");
  CHECK(rejected[0].reason() == "must be 18 characters");
  CHECK(rejected[1].row_index() == 2);
  CHECK(rejected[1].reason() == "duplicate of row 0 in this batch");
}

TEST_CASE("JSON lines: camelCase or snake_case fields, a broken line reported with its number") {
  auto rows = regsuite::exchange::ParseEnterpriseFile(
      "{\"uscc\":\"91350100M000100Y43\",\"name\":\"甲\",\"regionCode\":\"350100\"}\n"
      "\n"
      "{\"uscc\":\"x\",\"region_code\":\"350200\"}\n"
      "{not json\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].line == 1);
  CHECK(rows[0].record->region_code() == "350100");
  CHECK(rows[1].line == 3);
  CHECK(rows[1].record->region_code() == "350200");
  CHECK(rows[2].line == 4);
  CHECK_FALSE(rows[2].record.has_value());
  CHECK(rows[2].error == "row: not a JSON enterprise object");
}

TEST_CASE("CSV: a header row names the fields; quoted values keep commas and quotes") {
  auto rows = regsuite::exchange::ParseEnterpriseFile(
      "\xEF\xBB\xBFuscc,name,regionCode,address,industry\r\n"
      "91350100M000100Y43,\"福州某某\"\"化工\"\"有限公司\",350100,\"鼓楼区, 1号\",C26\r\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == 2);
  REQUIRE(rows[0].record.has_value());
  CHECK(rows[0].record->name() == "福州某某\"化工\"有限公司");
  CHECK(rows[0].record->address() == "鼓楼区, 1号");
  CHECK(rows[0].record->region_code() == "350100");
  CHECK(RuleOf(*rows[0].record) == "ok");
}

TEST_CASE("a platform page gives its rows and the next offset, or -1 at the end") {
  std::vector<v1::EnterpriseRecord> rows;
  int64_t next = 0;
  REQUIRE(regsuite::exchange::ParseEnterprisePage(
              "{\"enterprises\":[{\"uscc\":\"91350100M000100Y43\",\"name\":\"甲\"}],\"next\":1}",
              &rows, &next)
              .ok());
  CHECK(rows.size() == 1);
  CHECK(next == 1);
  REQUIRE(
      regsuite::exchange::ParseEnterprisePage("{\"enterprises\":[],\"next\":null}", &rows, &next)
          .ok());
  CHECK(next == -1);
}
