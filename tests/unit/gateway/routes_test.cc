// Route matching of the google.api.http rules: every REST mapping of CreditService and
// LicensingService listed in API.md, 404 versus 405, and the template grammar.
#include <catch2/catch.hpp>

#include <google/protobuf/descriptor.pb.h>

#include <map>
#include <string>
#include <vector>

#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "http/routes.h"
#include "test_api.h"

namespace regsuite::gateway {
namespace {

using testing::Routes;
using Bindings = std::vector<std::pair<std::string, std::string>>;

struct Case {
  const char* method;
  const char* path;
  const char* grpc_method;
  Bindings bindings;
};

void CheckCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    CAPTURE(c.method, c.path);
    RouteMatch match = Routes()->Match(c.method, c.path);
    REQUIRE(match.outcome == RouteMatch::Outcome::kMatched);
    CHECK(match.route->grpc_method == c.grpc_method);
    CHECK(match.bindings == c.bindings);
  }
}

TEST_CASE("every CreditService REST mapping of API.md routes to its method", "[routes]") {
  const std::string s = "/regsuite.credit.v1.CreditService/";
  const std::string uscc = "91350100M000100Y43";
  std::vector<Case> cases = {
      {"GET", "/v1/credit/subjects/91350100M000100Y43", "CheckSubject", {{"uscc", uscc}}},
      {"POST", "/v1/credit/subjects:batchCheck", "BatchCheckSubjects", {}},
      {"GET", "/v1/credit/subjects/91350100M000100Y43/profile", "GetCreditProfile",
       {{"uscc", uscc}}},
      {"POST", "/v1/credit/events", "RecordCreditEvent", {}},
      {"POST", "/v1/credit/listings", "ProposeListing", {}},
      {"POST", "/v1/credit/listings/L-1:notify", "NotifyListing", {{"listing_id", "L-1"}}},
      {"POST", "/v1/credit/listings/L-1:object", "RecordObjection", {{"listing_id", "L-1"}}},
      {"POST", "/v1/credit/listings/L-1:decide", "DecideListing", {{"listing_id", "L-1"}}},
      {"GET", "/v1/credit/listings/L-1", "GetListing", {{"listing_id", "L-1"}}},
      {"GET", "/v1/credit/listings", "ListListings", {}},
      {"POST", "/v1/credit/repairs", "ApplyRepair", {}},
      {"POST", "/v1/credit/repairs/R-9:decide", "DecideRepair", {{"repair_id", "R-9"}}},
      {"POST", "/v1/credit/repairs/R-9:revoke", "RevokeRepair", {{"repair_id", "R-9"}}},
  };
  std::vector<std::string> names;
  for (auto& c : cases) names.push_back(s + c.grpc_method);
  for (size_t i = 0; i < cases.size(); ++i) cases[i].grpc_method = names[i].c_str();
  CheckCases(cases);
}

TEST_CASE("every LicensingService REST mapping of API.md routes to its method", "[routes]") {
  const std::string s = "/regsuite.licensing.v1.LicensingService/";
  std::vector<Case> cases = {
      {"GET", "/v1/licensing/permit-types", "ListPermitTypes", {}},
      {"GET", "/v1/licensing/permit-types/HC-01", "GetPermitType", {{"code", "HC-01"}}},
      {"PUT", "/v1/licensing/permit-types/HC-01", "UpsertPermitType", {{"code", "HC-01"}}},
      {"POST", "/v1/licensing/applications", "SubmitApplication", {}},
      {"GET", "/v1/licensing/applications/A1", "GetApplication", {{"application_id", "A1"}}},
      {"GET", "/v1/licensing/applications", "ListApplications", {}},
      {"GET", "/v1/licensing/certificates/C%2F7", "GetCertificate", {{"certificate_no", "C/7"}}},
      {"POST", "/v1/licensing/certificates:verify", "VerifyCertificate", {}},
      {"GET", "/v1/licensing/certificates:expiring", "ListExpiringCertificates", {}},
  };
  const char* application_verbs[][2] = {
      {"supplement", "SupplementMaterials"}, {"accept", "AcceptApplication"},
      {"reject", "RejectApplication"},       {"suspend", "SuspendApplication"},
      {"resume", "ResumeApplication"},       {"extend", "ExtendApplication"},
      {"decide", "DecideApplication"}};
  std::vector<std::string> paths;
  for (auto& [verb, method] : application_verbs) {
    paths.push_back(std::string("/v1/licensing/applications/A1:") + verb);
  }
  const char* certificate_verbs[][2] = {{"renew", "RenewCertificate"},
                                        {"suspend", "SuspendCertificate"},
                                        {"revoke", "RevokeCertificate"},
                                        {"cancel", "CancelCertificate"}};
  for (auto& [verb, method] : certificate_verbs) {
    paths.push_back(std::string("/v1/licensing/certificates/N1:") + verb);
  }
  size_t k = 0;
  for (auto& [verb, method] : application_verbs) {
    cases.push_back({"POST", paths[k++].c_str(), method, {{"application_id", "A1"}}});
  }
  for (auto& [verb, method] : certificate_verbs) {
    cases.push_back({"POST", paths[k++].c_str(), method, {{"certificate_no", "N1"}}});
  }
  std::vector<std::string> names;
  for (auto& c : cases) names.push_back(s + c.grpc_method);
  for (size_t i = 0; i < cases.size(); ++i) cases[i].grpc_method = names[i].c_str();
  CheckCases(cases);
}

TEST_CASE("a path no template matches is 404, a matched path with another verb is 405",
          "[routes]") {
  CHECK(Routes()->Match("GET", "/v1/credit/nothing").outcome == RouteMatch::Outcome::kNoRoute);
  CHECK(Routes()->Match("GET", "/v1/credit/subjects/X/extra/more").outcome ==
        RouteMatch::Outcome::kNoRoute);
  CHECK(Routes()->Match("POST", "/v1/credit/listings/L1:unknownVerb").outcome ==
        RouteMatch::Outcome::kNoRoute);
  CHECK(Routes()->Match("GET", "").outcome == RouteMatch::Outcome::kNoRoute);
  CHECK(Routes()->Match("GET", "no-slash").outcome == RouteMatch::Outcome::kNoRoute);

  RouteMatch wrong_verb = Routes()->Match("DELETE", "/v1/credit/subjects/X");
  CHECK(wrong_verb.outcome == RouteMatch::Outcome::kMethodNotAllowed);
  CHECK(wrong_verb.allowed_methods == std::vector<std::string>{"GET"});

  RouteMatch custom = Routes()->Match("GET", "/v1/credit/listings/L1:notify");
  CHECK(custom.outcome == RouteMatch::Outcome::kMethodNotAllowed);
  CHECK(custom.allowed_methods == std::vector<std::string>{"POST"});

  RouteMatch both = Routes()->Match("DELETE", "/v1/licensing/permit-types/C1");
  CHECK(both.allowed_methods == std::vector<std::string>{"GET", "PUT"});
  CHECK(Routes()->Match("get", "/v1/credit/subjects/X").outcome ==
        RouteMatch::Outcome::kMethodNotAllowed);
}

TEST_CASE("a malformed percent escape in a path variable matches no route", "[routes]") {
  CHECK(Routes()->Match("GET", "/v1/credit/subjects/%zz").outcome ==
        RouteMatch::Outcome::kNoRoute);
}

TEST_CASE("path templates parse literals, wildcards, variables and a custom verb",
          "[routes][template]") {
  auto t = PathTemplate::Parse("/v1/{name=shelves/*/books/**}:list");
  REQUIRE(t.ok());
  CHECK(t->verb == "list");
  CHECK(t->has_multi);
  REQUIRE(t->variables.size() == 1);
  CHECK(t->variables[0].field_path == "name");
  CHECK(t->variables[0].first_segment == 1);
  CHECK(t->variables[0].end_segment == 5);

  for (const char* bad : {"", "v1/x", "/v1/", "/v1//x", "/v1/{x", "/v1/{x}/{x}", "/v1/**/x",
                          "/v1/{1x}", "/v1/x:", "/v1/x:a/b", "/v1/{a={b}}", "/v1/a}b"}) {
    CAPTURE(bad);
    CHECK_FALSE(PathTemplate::Parse(bad).ok());
  }
}

// A descriptor set with one service whose rules use `*`, `**`, nested variables, a custom
// HTTP method and additional_bindings.
std::shared_ptr<const HttpRouteTable> CustomTable() {
  google::protobuf::FileDescriptorSet set;
  auto* file = set.add_file();
  file->set_name("t/test.proto");
  file->set_package("t");
  file->set_syntax("proto3");
  auto* inner = file->add_message_type();
  inner->set_name("Inner");
  auto* id = inner->add_field();
  id->set_name("id");
  id->set_number(1);
  id->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
  id->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  auto* req = file->add_message_type();
  req->set_name("Req");
  auto* name = req->add_field();
  name->set_name("name");
  name->set_number(1);
  name->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
  name->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  auto* nested = req->add_field();
  nested->set_name("inner");
  nested->set_number(2);
  nested->set_type(google::protobuf::FieldDescriptorProto::TYPE_MESSAGE);
  nested->set_type_name(".t.Inner");
  nested->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  auto* service = file->add_service();
  service->set_name("S");
  auto add = [&](const char* method_name, google::api::HttpRule rule) {
    auto* m = service->add_method();
    m->set_name(method_name);
    m->set_input_type(".t.Req");
    m->set_output_type(".t.Req");
    *m->mutable_options()->MutableExtension(google::api::http) = std::move(rule);
  };
  google::api::HttpRule book;
  book.set_get("/v1/{name=shelves/*}/books/{inner.id}");
  book.add_additional_bindings()->set_delete_("/v1/{name=shelves/*}/books/{inner.id}");
  add("Book", book);
  google::api::HttpRule files;
  files.set_get("/v1/files/{name=**}");
  add("Files", files);
  google::api::HttpRule literal;
  literal.set_get("/v1/files/special");
  add("Special", literal);
  google::api::HttpRule custom;
  custom.mutable_custom()->set_kind("PURGE");
  custom.mutable_custom()->set_path("/v1/cache/*:purge");
  add("Purge", custom);
  auto api = ApiDescriptors::FromSerializedSet(set.SerializeAsString());
  if (!api.ok()) FAIL(api.status().ToString());
  auto table = HttpRouteTable::Build(**api);
  if (!table.ok()) FAIL(table.status().ToString());
  return *table;
}

TEST_CASE("`{var=a/*}`, nested field paths and additional_bindings bind their segments",
          "[routes]") {
  auto table = CustomTable();
  RouteMatch get = table->Match("GET", "/v1/shelves/s1/books/b%20one");
  REQUIRE(get.outcome == RouteMatch::Outcome::kMatched);
  CHECK(get.route->grpc_method == "/t.S/Book");
  CHECK(get.bindings == Bindings{{"name", "shelves/s1"}, {"inner.id", "b one"}});
  RouteMatch del = table->Match("DELETE", "/v1/shelves/s1/books/b1");
  REQUIRE(del.outcome == RouteMatch::Outcome::kMatched);
  CHECK(del.route->http_method == "DELETE");
  CHECK(table->Match("GET", "/v1/racks/s1/books/b1").outcome == RouteMatch::Outcome::kNoRoute);
}

TEST_CASE("`{var=**}` takes the rest of the path, but a literal template wins", "[routes]") {
  auto table = CustomTable();
  RouteMatch deep = table->Match("GET", "/v1/files/a/b/c.txt");
  REQUIRE(deep.outcome == RouteMatch::Outcome::kMatched);
  CHECK(deep.bindings == Bindings{{"name", "a/b/c.txt"}});
  RouteMatch special = table->Match("GET", "/v1/files/special");
  REQUIRE(special.outcome == RouteMatch::Outcome::kMatched);
  CHECK(special.route->grpc_method == "/t.S/Special");
  RouteMatch purge = table->Match("PURGE", "/v1/cache/x:purge");
  REQUIRE(purge.outcome == RouteMatch::Outcome::kMatched);
  CHECK(purge.route->grpc_method == "/t.S/Purge");
}

TEST_CASE("a template variable naming no field of the request fails the build", "[routes]") {
  google::protobuf::FileDescriptorSet set;
  auto* file = set.add_file();
  file->set_name("u/test.proto");
  file->set_package("u");
  file->set_syntax("proto3");
  file->add_message_type()->set_name("Empty");
  auto* m = file->add_service();
  m->set_name("S");
  auto* method = m->add_method();
  method->set_name("M");
  method->set_input_type(".u.Empty");
  method->set_output_type(".u.Empty");
  method->mutable_options()->MutableExtension(google::api::http)->set_get("/v1/{missing}");
  auto api = ApiDescriptors::FromSerializedSet(set.SerializeAsString());
  REQUIRE(api.ok());
  auto table = HttpRouteTable::Build(**api);
  REQUIRE_FALSE(table.ok());
  CHECK_THAT(std::string(table.status().message()), Catch::Contains("/u.S/M"));
  CHECK_THAT(std::string(table.status().message()), Catch::Contains("missing"));
}

}  // namespace
}  // namespace regsuite::gateway
