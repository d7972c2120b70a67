#include "regsuite/common/masking.h"

#include <catch2/catch.hpp>
#include <string>

namespace regsuite::common {
namespace {

TEST_CASE("personal ID numbers keep the first 4 and last 4 characters", "[masking]") {
  CHECK(MaskPersonalId("330106199001011234") == "3301**********1234");
  CHECK(MaskPersonalId("11010519491231002X") == "1101**********002X");
  CHECK(MaskPersonalId(" 330106199001011234 ") == "3301**********1234");
  CHECK(MaskPersonalId("330106900101123") == "3301*******1123");  // old 15-digit number
}

TEST_CASE("a value too short to keep both ends is masked completely", "[masking]") {
  CHECK(MaskPersonalId("12345678") == "********");
  CHECK(MaskPersonalId("") == "");
  CHECK(MaskMobile("1234567") == "*******");
  CHECK(MaskBankCard("62220212") == "********");
  CHECK(MaskMiddle("abc", 1, 1) == "a*c");
  CHECK(MaskMiddle("ab", 1, 1) == "**");
}

TEST_CASE("mobile numbers keep the first 3 and last 4 digits", "[masking]") {
  CHECK(MaskMobile("13812345678") == "138****5678");
  CHECK(MaskMobile("138-1234-5678") == "138-****-5678");
  CHECK(MaskMobile("+86 138 1234 5678") == "+86 138 **** 5678");
  CHECK(MaskMobile("008613812345678") == "0086138****5678");
}

TEST_CASE("landlines keep the area code and the last 4 digits", "[masking]") {
  CHECK(MaskLandline("0571-87654321") == "0571-****4321");
  CHECK(MaskLandline("010-12345678") == "010-****5678");
  CHECK(MaskLandline("(0571)87654321") == "(0571)****4321");
  CHECK(MaskLandline("0571 8765 4321") == "0571 **** 4321");
  CHECK(MaskLandline("02112345678") == "021****5678");  // no separator: first 3 digits
  CHECK(MaskLandline("87654321") == "****4321");        // no area code
  CHECK(MaskLandline("4321") == "****");
}

TEST_CASE("bank cards keep the first 4 and last 4 digits and their spacing", "[masking]") {
  CHECK(MaskBankCard("6222021234567890") == "6222********7890");
  CHECK(MaskBankCard("6222 0212 3456 7890") == "6222 **** **** 7890");
  CHECK(MaskBankCard("6217001234567890123") == "6217***********0123");
}

TEST_CASE("e-mail keeps the first character of the local part and the domain", "[masking]") {
  CHECK(MaskEmail("zhangsan@example.com") == "z***@example.com");
  CHECK(MaskEmail("Zhang.San+tag@mail.example.cn") == "Z***@mail.example.cn");
  CHECK(MaskEmail("张三丰@例子.中国") == "张***@例子.中国");  // UTF-8: a whole character kept
  CHECK(MaskEmail("z@example.com") == "***@example.com");     // would otherwise show it all
  CHECK(MaskEmail("@example.com") == "***@example.com");
  CHECK(MaskEmail("not-an-address") == "n***");
  CHECK(MaskEmail("") == "");
}

TEST_CASE(
    "names keep the first character and mask each other character, counting "
    "code points not bytes",
    "[masking]") {
  CHECK(MaskPersonName("张三") == "张*");
  CHECK(MaskPersonName("李小龙") == "李**");
  CHECK(MaskPersonName("欧阳娜娜") == "欧***");
  CHECK(MaskPersonName("买买提·艾力") == "买*****");
  CHECK(MaskPersonName(" 王五 ") == "王*");
  CHECK(MaskPersonName("John Smith") == "J*********");
  CHECK(MaskPersonName("张") == "*");
  CHECK(MaskPersonName("") == "");
  CHECK(MaskPersonName("𠮷野家") == "𠮷**");  // a 4-byte character (outside the BMP)
}

TEST_CASE("invalid UTF-8 is never copied into masked output", "[masking]") {
  // "张" cut after two of its three bytes, then "三".
  CHECK(MaskPersonName("\xE5\xBC三") == "\xEF\xBF\xBD**");
  CHECK(MaskMiddle("\xFF"
                   "2345678\xFE",
                   1, 1) == "\xEF\xBF\xBD*******\xEF\xBF\xBD");
  CHECK(MaskPersonName("\xED\xA0\x80"
                       "ab") == "\xEF\xBF\xBD****");  // a UTF-16 surrogate
  CHECK(MaskBankCard("6222\x80"
                     "021234567890") == "6222\xEF\xBF\xBD********7890");
}

}  // namespace
}  // namespace regsuite::common
