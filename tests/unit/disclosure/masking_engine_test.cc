// Desensitisation rules (条例 Art 15; DOMAIN.md "Disclosure").
#include "masking_engine.h"

#include <catch2/catch.hpp>

#include "regsuite/common/identifiers.h"

using regsuite::disclosure::MaskingFinding;
using regsuite::disclosure::PassesLuhn;
using regsuite::disclosure::PersonalDataMasker;

namespace {

// A resident ID number with a valid check character, built from 17 digits.
std::string ValidId(const std::string& first17) {
  return first17 + regsuite::common::PersonalId::ComputeCheckCharacter(first17);
}

// An 18-digit number whose last digit is NOT the ID check character (an order number).
std::string InvalidId(const std::string& first17) {
  char good = regsuite::common::PersonalId::ComputeCheckCharacter(first17);
  char bad = good == '1' ? '2' : '1';
  return first17 + bad;
}

}  // namespace

TEST_CASE("an ID number with a valid check digit is masked to first 4 and last 4") {
  std::string id = ValidId("33010619900101123");
  PersonalDataMasker masker;
  std::string out = masker.Mask("当事人身份证号" + id + "。");
  CHECK(out == "当事人身份证号3301**********" + id.substr(14) + "。");
}

TEST_CASE("an 18-digit order number that fails the ID check digit is not masked") {
  std::string order = InvalidId("33010619900101123");
  REQUIRE_FALSE(regsuite::common::IsValidPersonalIdNumber(order));
  REQUIRE_FALSE(PassesLuhn(order));
  PersonalDataMasker masker;
  CHECK(masker.Mask("订单号" + order + "已付款") == "订单号" + order + "已付款");
}

TEST_CASE("an ID number ending in X is masked") {
  // 11010519491231002X is the GB 11643 standard's example.
  PersonalDataMasker masker;
  CHECK(masker.Mask("身份证11010519491231002X") == "身份证1101**********002X");
}

TEST_CASE("a mobile number inside Chinese text is masked") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("联系电话13812345678，请回电") == "联系电话138****5678，请回电");
}

TEST_CASE("a mobile number glued to further digits is part of a longer number and not masked") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("流水号1381234567899") == "流水号1381234567899");
}

TEST_CASE("a mobile number next to other digits separated by a space is still masked") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("电话 13812345678 1234 号") == "电话 138****5678 1234 号");
}

TEST_CASE("a mobile number glued to ASCII letters is a code and not masked") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("编码AB13812345678") == "编码AB13812345678");
}

TEST_CASE("a landline with area code keeps the area code and the last four digits") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("座机0571-87654321转") == "座机0571-****4321转");
}

TEST_CASE("a bank card passing Luhn is masked, grouped or not") {
  // 6222021234567890 is not Luhn-valid; 6222020000000000006 is built to pass.
  REQUIRE(PassesLuhn("4111111111111111"));
  PersonalDataMasker masker;
  CHECK(masker.Mask("卡号4111111111111111") == "卡号4111********1111");
  CHECK(masker.Mask("卡号 4111 1111 1111 1111 已冻结") == "卡号 4111 **** **** 1111 已冻结");
}

TEST_CASE("a 16-digit number failing Luhn is not a bank card") {
  REQUIRE_FALSE(PassesLuhn("4111111111111112"));
  PersonalDataMasker masker;
  CHECK(masker.Mask("编号4111111111111112") == "编号4111111111111112");
}

TEST_CASE("an e-mail address is masked to its first character and domain") {
  PersonalDataMasker masker;
  CHECK(masker.Mask("邮箱zhangsan@example.com。") == "邮箱z***@example.com。");
}

TEST_CASE("dates, amounts and decision numbers are left alone") {
  PersonalDataMasker masker;
  std::string text = "2026-04-01 罚款20000元，应急罚〔2026〕12号";
  CHECK(masker.Mask(text) == text);
}

TEST_CASE("the natural person's name is masked wherever it appears") {
  PersonalDataMasker masker({"张三丰"});
  std::vector<MaskingFinding> findings;
  CHECK(masker.Mask("张三丰于2026年3月在仓库内违规储存，张三丰承认", &findings) ==
        "张**于2026年3月在仓库内违规储存，张**承认");
  CHECK(findings.size() == 2);
}
