// The public contract of shared/API.md, checked against the compiled protos: every fixed
// service, method, REST mapping, enum value and named field must exist exactly as listed there,
// plus the conventions every regsuite proto follows (enum prefixes, REST bindings that the
// gateway can transcode, DeliverEvent on every domain service, enum mirrors in events.v1).
// The tables below are copied from API.md; API.md writes path variables in lowerCamelCase
// ({listingId}), the protos use the snake_case field name ({listing_id}).

#include <catch2/catch.hpp>

#include <google/protobuf/descriptor.h>

#include <cctype>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "regsuite/events/v1/events.pb.h"
#include "regsuite/exchange/v1/exchange.pb.h"
#include "regsuite/gateway/v1/admin.pb.h"
#include "regsuite/inspection/v1/inspection.pb.h"
#include "regsuite/licensing/v1/licensing.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

struct RestMapping {
  const char* method;
  const char* verb;
  const char* path;
};

struct HttpBinding {
  std::string verb;
  std::string path;
  std::string body;
};

// Referencing one message of each file links its generated code (static libraries drop
// unreferenced objects) and so registers the file in the generated pool.
std::vector<const FileDescriptor*> RegsuiteFiles() {
  return {
      regsuite::events::v1::EventEnvelope::descriptor()->file(),
      regsuite::credit::v1::SubjectStatus::descriptor()->file(),
      regsuite::licensing::v1::Application::descriptor()->file(),
      regsuite::inspection::v1::Draw::descriptor()->file(),
      regsuite::disclosure::v1::PublishedRecord::descriptor()->file(),
      regsuite::exchange::v1::ListChangesResponse::descriptor()->file(),
      regsuite::gateway::v1::Client::descriptor()->file(),
  };
}

const ServiceDescriptor* FindService(const std::string& full_name) {
  RegsuiteFiles();
  return DescriptorPool::generated_pool()->FindServiceByName(full_name);
}

std::vector<const ServiceDescriptor*> AllRegsuiteServices() {
  std::vector<const ServiceDescriptor*> services;
  for (const FileDescriptor* file : RegsuiteFiles()) {
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
  return services;
}

HttpBinding BindingOf(const MethodDescriptor& method) {
  if (!method.options().HasExtension(google::api::http)) return {};
  const google::api::HttpRule& rule = method.options().GetExtension(google::api::http);
  HttpBinding binding;
  binding.body = rule.body();
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      binding.verb = "GET";
      binding.path = rule.get();
      break;
    case google::api::HttpRule::kPut:
      binding.verb = "PUT";
      binding.path = rule.put();
      break;
    case google::api::HttpRule::kPost:
      binding.verb = "POST";
      binding.path = rule.post();
      break;
    case google::api::HttpRule::kDelete:
      binding.verb = "DELETE";
      binding.path = rule.delete_();
      break;
    case google::api::HttpRule::kPatch:
      binding.verb = "PATCH";
      binding.path = rule.patch();
      break;
    case google::api::HttpRule::kCustom:
      binding.verb = rule.custom().kind();
      binding.path = rule.custom().path();
      break;
    case google::api::HttpRule::PATTERN_NOT_SET:
      break;
  }
  return binding;
}

void CheckFixedMethods(const std::string& service_name, const std::vector<RestMapping>& fixed) {
  const ServiceDescriptor* service = FindService(service_name);
  REQUIRE(service != nullptr);
  for (const RestMapping& expected : fixed) {
    INFO(service_name << "/" << expected.method);
    const MethodDescriptor* method = service->FindMethodByName(expected.method);
    CHECK(method != nullptr);
    if (method == nullptr) continue;
    const HttpBinding binding = BindingOf(*method);
    CHECK(binding.verb == expected.verb);
    CHECK(binding.path == expected.path);
    CHECK(binding.body == (binding.verb == "GET" ? "" : "*"));
  }
}

// "CreditTier" -> "CREDIT_TIER".
std::string UpperSnake(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
        !std::isupper(static_cast<unsigned char>(camel[i - 1]))) {
      out += '_';
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

void CollectEnums(const Descriptor& message, std::vector<const EnumDescriptor*>& out) {
  for (int i = 0; i < message.enum_type_count(); ++i) out.push_back(message.enum_type(i));
  for (int i = 0; i < message.nested_type_count(); ++i) CollectEnums(*message.nested_type(i), out);
}

std::vector<const EnumDescriptor*> AllRegsuiteEnums() {
  std::vector<const EnumDescriptor*> enums;
  for (const FileDescriptor* file : RegsuiteFiles()) {
    for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
    for (int i = 0; i < file->message_type_count(); ++i) CollectEnums(*file->message_type(i), enums);
  }
  return enums;
}

// Resolves "applicant.legalRepresentative" by JSON names through nested message types.
const FieldDescriptor* FindFieldByJsonPath(const Descriptor* message, const std::string& path) {
  std::stringstream segments(path);
  std::string segment;
  const FieldDescriptor* field = nullptr;
  while (std::getline(segments, segment, '.')) {
    if (message == nullptr) return nullptr;
    field = nullptr;
    for (int i = 0; i < message->field_count() && field == nullptr; ++i) {
      if (message->field(i)->json_name() == segment) field = message->field(i);
    }
    if (field == nullptr) return nullptr;
    message = field->message_type();
  }
  return field;
}

// Resolves "filter.region_code" by proto field names through nested message types.
const FieldDescriptor* FindFieldByPath(const Descriptor* message, const std::string& path) {
  std::stringstream segments(path);
  std::string segment;
  const FieldDescriptor* field = nullptr;
  while (std::getline(segments, segment, '.')) {
    if (message == nullptr) return nullptr;
    field = message->FindFieldByName(segment);
    if (field == nullptr) return nullptr;
    message = field->message_type();
  }
  return field;
}

}  // namespace

TEST_CASE("every fixed CreditService method from API.md exists with its REST mapping") {
  CheckFixedMethods(
      "regsuite.credit.v1.CreditService",
      {
          {"CheckSubject", "GET", "/v1/credit/subjects/{uscc}"},
          {"BatchCheckSubjects", "POST", "/v1/credit/subjects:batchCheck"},
          {"GetCreditProfile", "GET", "/v1/credit/subjects/{uscc}/profile"},
          {"RecordCreditEvent", "POST", "/v1/credit/events"},
          {"ProposeListing", "POST", "/v1/credit/listings"},
          {"NotifyListing", "POST", "/v1/credit/listings/{listing_id}:notify"},
          {"RecordObjection", "POST", "/v1/credit/listings/{listing_id}:object"},
          {"DecideListing", "POST", "/v1/credit/listings/{listing_id}:decide"},
          {"GetListing", "GET", "/v1/credit/listings/{listing_id}"},
          {"ListListings", "GET", "/v1/credit/listings"},
          {"ApplyRepair", "POST", "/v1/credit/repairs"},
          {"DecideRepair", "POST", "/v1/credit/repairs/{repair_id}:decide"},
          {"RevokeRepair", "POST", "/v1/credit/repairs/{repair_id}:revoke"},
      });
}

TEST_CASE("every fixed LicensingService method from API.md exists with its REST mapping") {
  CheckFixedMethods(
      "regsuite.licensing.v1.LicensingService",
      {
          {"ListPermitTypes", "GET", "/v1/licensing/permit-types"},
          {"GetPermitType", "GET", "/v1/licensing/permit-types/{code}"},
          {"UpsertPermitType", "PUT", "/v1/licensing/permit-types/{code}"},
          {"SubmitApplication", "POST", "/v1/licensing/applications"},
          {"GetApplication", "GET", "/v1/licensing/applications/{application_id}"},
          {"ListApplications", "GET", "/v1/licensing/applications"},
          {"SupplementMaterials", "POST", "/v1/licensing/applications/{application_id}:supplement"},
          {"AcceptApplication", "POST", "/v1/licensing/applications/{application_id}:accept"},
          {"RejectApplication", "POST", "/v1/licensing/applications/{application_id}:reject"},
          {"SuspendApplication", "POST", "/v1/licensing/applications/{application_id}:suspend"},
          {"ResumeApplication", "POST", "/v1/licensing/applications/{application_id}:resume"},
          {"ExtendApplication", "POST", "/v1/licensing/applications/{application_id}:extend"},
          {"DecideApplication", "POST", "/v1/licensing/applications/{application_id}:decide"},
          {"GetCertificate", "GET", "/v1/licensing/certificates/{certificate_no}"},
          {"VerifyCertificate", "POST", "/v1/licensing/certificates:verify"},
          {"ListExpiringCertificates", "GET", "/v1/licensing/certificates:expiring"},
          {"RenewCertificate", "POST", "/v1/licensing/certificates/{certificate_no}:renew"},
          {"SuspendCertificate", "POST", "/v1/licensing/certificates/{certificate_no}:suspend"},
          {"RevokeCertificate", "POST", "/v1/licensing/certificates/{certificate_no}:revoke"},
          {"CancelCertificate", "POST", "/v1/licensing/certificates/{certificate_no}:cancel"},
      });
}

TEST_CASE("every fixed InspectionService method from API.md exists with its REST mapping") {
  CheckFixedMethods(
      "regsuite.inspection.v1.InspectionService",
      {
          {"UpsertEnterprise", "PUT", "/v1/inspection/enterprises/{uscc}"},
          {"ImportEnterprises", "POST", "/v1/inspection/enterprises:import"},
          {"UpsertInspector", "PUT", "/v1/inspection/inspectors/{inspector_id}"},
          {"UpsertCheckItem", "PUT", "/v1/inspection/check-items/{code}"},
          {"DrawInspections", "POST", "/v1/inspection/draws"},
          {"GetDraw", "GET", "/v1/inspection/draws/{draw_id}"},
          {"VerifyDraw", "POST", "/v1/inspection/draws/{draw_id}:verify"},
          {"StartInspection", "POST", "/v1/inspection/inspections"},
          {"RecordFindings", "POST", "/v1/inspection/inspections/{inspection_id}:findings"},
          {"CloseInspection", "POST", "/v1/inspection/inspections/{inspection_id}:close"},
          {"RectifyHazard", "POST", "/v1/inspection/hazards/{hazard_id}:rectify"},
          {"VerifyHazard", "POST", "/v1/inspection/hazards/{hazard_id}:verify"},
          {"AssessPenalty", "POST", "/v1/inspection/penalties:assess"},
          {"ProposePenalty", "POST", "/v1/inspection/penalties"},
          {"DecidePenalty", "POST", "/v1/inspection/penalties/{case_id}:decide"},
          {"FileComplaint", "POST", "/v1/inspection/complaints"},
          {"GetStats", "GET", "/v1/inspection/stats"},
      });
}

TEST_CASE("every fixed DisclosureService method from API.md exists with its REST mapping") {
  CheckFixedMethods(
      "regsuite.disclosure.v1.DisclosureService",
      {
          {"PublishRecord", "POST", "/v1/disclosure/records"},
          {"GetRecord", "GET", "/v1/disclosure/records/{index_no}"},
          {"SearchRecords", "GET", "/v1/disclosure/records"},
          {"WithdrawRecord", "POST", "/v1/disclosure/records/{index_no}:withdraw"},
          {"SubmitInfoRequest", "POST", "/v1/disclosure/requests"},
          {"GetInfoRequest", "GET", "/v1/disclosure/requests/{request_id}"},
          {"RequestCorrection", "POST", "/v1/disclosure/requests/{request_id}:correct"},
          {"ExtendInfoRequest", "POST", "/v1/disclosure/requests/{request_id}:extend"},
          {"ReplyInfoRequest", "POST", "/v1/disclosure/requests/{request_id}:reply"},
          {"GetAnnualReport", "GET", "/v1/disclosure/annual-reports/{year}"},
      });
}

TEST_CASE("every fixed ExchangeService method from API.md exists with its REST mapping") {
  CheckFixedMethods("regsuite.exchange.v1.ExchangeService",
                    {
                        {"ListChanges", "GET", "/v1/exchange/changes"},
                    });
}

TEST_CASE("every GatewayAdmin method named in API.md exists under /v1/admin/ with its REST mapping") {
  CheckFixedMethods("regsuite.gateway.v1.GatewayAdmin",
                    {
                        {"CreateClient", "POST", "/v1/admin/clients"},
                        {"RotateSecret", "POST", "/v1/admin/clients/{app_key}:rotateSecret"},
                        {"SetClientAccess", "PUT", "/v1/admin/clients/{app_key}/access"},
                        {"DisableClient", "POST", "/v1/admin/clients/{app_key}:disable"},
                        {"QueryAudit", "GET", "/v1/admin/audit"},
                        {"VerifyAuditChain", "POST", "/v1/admin/audit:verify"},
                    });
}

TEST_CASE("every fixed enum value from API.md exists") {
  const std::map<std::string, std::vector<std::string>> fixed = {
      {"regsuite.credit.v1.CreditTier",
       {"CREDIT_TIER_RED", "CREDIT_TIER_NORMAL", "CREDIT_TIER_WATCH", "CREDIT_TIER_BLACK"}},
      {"regsuite.credit.v1.ListType", {"LIST_TYPE_RED", "LIST_TYPE_BLACK"}},
      {"regsuite.credit.v1.ListingStatus",
       {"LISTING_STATUS_PROPOSED", "LISTING_STATUS_NOTIFIED", "LISTING_STATUS_ACTIVE",
        "LISTING_STATUS_REJECTED", "LISTING_STATUS_EXPIRED", "LISTING_STATUS_REMOVED"}},
      {"regsuite.licensing.v1.ApplicationStatus",
       {"APPLICATION_STATUS_RECEIVED", "APPLICATION_STATUS_CORRECTION_REQUIRED",
        "APPLICATION_STATUS_ACCEPTED", "APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY",
        "APPLICATION_STATUS_SUSPENDED", "APPLICATION_STATUS_APPROVED",
        "APPLICATION_STATUS_DENIED", "APPLICATION_STATUS_REJECTED",
        "APPLICATION_STATUS_WITHDRAWN"}},
      {"regsuite.credit.v1.CreditGrade",
       {"CREDIT_GRADE_A", "CREDIT_GRADE_B", "CREDIT_GRADE_C", "CREDIT_GRADE_D"}},
  };
  RegsuiteFiles();
  for (const auto& [enum_name, values] : fixed) {
    INFO(enum_name);
    const EnumDescriptor* type = DescriptorPool::generated_pool()->FindEnumTypeByName(enum_name);
    CHECK(type != nullptr);
    if (type == nullptr) continue;
    for (const std::string& value : values) {
      INFO(value);
      CHECK(type->FindValueByName(value) != nullptr);
    }
  }
}

TEST_CASE("every field API.md names exists under its lowerCamelCase JSON name") {
  const std::map<std::string, std::vector<std::string>> fixed = {
      {"regsuite.credit.v1.SubjectStatus",
       {"uscc", "name", "tier", "activeListings", "measures", "asOf"}},
      {"regsuite.credit.v1.BatchCheckSubjectsRequest", {"usccs"}},
      {"regsuite.credit.v1.BatchCheckSubjectsResponse", {"statuses"}},
      {"regsuite.credit.v1.CreditProfile", {"records", "listings", "grade"}},
      {"regsuite.credit.v1.RecordCreditEventRequest", {"eventId", "uscc", "kind"}},
      {"regsuite.credit.v1.ProposeListingRequest",
       {"uscc", "subjectName", "listType", "reasonCode", "basis", "evidenceRefs"}},
      {"regsuite.credit.v1.Listing", {"listingId", "status", "effectiveFrom", "effectiveUntil"}},
      {"regsuite.credit.v1.DecideListingRequest", {"approve", "reason"}},
      {"regsuite.credit.v1.ApplyRepairRequest", {"listingId", "commitment", "evidenceRefs"}},
      {"regsuite.licensing.v1.SubmitApplicationRequest",
       {"permitTypeCode", "applicant.uscc", "applicant.name", "applicant.legalRepresentative",
        "materials.code", "materials.documentRef", "commitmentSigned"}},
      {"regsuite.licensing.v1.Application",
       {"applicationId", "status", "missingMaterials", "dueDate", "certificate"}},
      {"regsuite.licensing.v1.VerifyCertificateRequest", {"certificateNo", "verificationCode"}},
      {"regsuite.licensing.v1.ListExpiringCertificatesRequest", {"withinDays"}},
      {"regsuite.inspection.v1.DrawInspectionsRequest",
       {"checkItemCode", "filter.industry", "filter.regionCode", "ratio", "count", "teamSize",
        "seed"}},
      {"regsuite.inspection.v1.Draw", {"drawId", "seed", "enterprises", "teams"}},
      {"regsuite.disclosure.v1.PublishedRecord", {"indexNo", "category", "status"}},
      {"regsuite.disclosure.v1.SearchRecordsRequest", {"query", "category", "uscc"}},
      {"regsuite.exchange.v1.ListChangesRequest", {"cursor", "limit"}},
      {"regsuite.exchange.v1.ListChangesResponse", {"changes", "nextCursor"}},
  };
  RegsuiteFiles();
  for (const auto& [message_name, fields] : fixed) {
    INFO(message_name);
    const Descriptor* message = DescriptorPool::generated_pool()->FindMessageTypeByName(message_name);
    CHECK(message != nullptr);
    if (message == nullptr) continue;
    for (const std::string& field : fields) {
      INFO(field);
      CHECK(FindFieldByJsonPath(message, field) != nullptr);
    }
  }
}

TEST_CASE("DrawInspections takes either ratio or count, and an optional seed") {
  const Descriptor* request = regsuite::inspection::v1::DrawInspectionsRequest::descriptor();
  const FieldDescriptor* ratio = request->FindFieldByName("ratio");
  const FieldDescriptor* count = request->FindFieldByName("count");
  const FieldDescriptor* seed = request->FindFieldByName("seed");
  REQUIRE(ratio != nullptr);
  REQUIRE(count != nullptr);
  REQUIRE(seed != nullptr);
  REQUIRE(ratio->containing_oneof() != nullptr);
  CHECK(ratio->containing_oneof() == count->containing_oneof());
  CHECK(seed->has_presence());
}

TEST_CASE("every domain service receives outbox events through DeliverEvent at /v1/<svc>/events:deliver") {
  for (const std::string svc : {"credit", "licensing", "inspection", "disclosure", "exchange"}) {
    INFO(svc);
    std::string service_name = svc;
    service_name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(service_name[0])));
    const ServiceDescriptor* service =
        FindService("regsuite." + svc + ".v1." + service_name + "Service");
    CHECK(service != nullptr);
    if (service == nullptr) continue;
    const MethodDescriptor* deliver = service->FindMethodByName("DeliverEvent");
    CHECK(deliver != nullptr);
    if (deliver == nullptr) continue;
    CHECK(deliver->input_type()->full_name() == "regsuite.events.v1.EventEnvelope");
    CHECK(deliver->output_type()->full_name() == "regsuite.events.v1.EventAck");
    const HttpBinding binding = BindingOf(*deliver);
    CHECK(binding.verb == "POST");
    CHECK(binding.path == "/v1/" + svc + "/events:deliver");
    CHECK(binding.body == "*");
  }
}

TEST_CASE("every regsuite method has a REST rule whose path variables are request fields and whose body suits its verb") {
  const std::regex variable(R"(\{([A-Za-z0-9_.]+)(=[^}]*)?\})");
  for (const ServiceDescriptor* service : AllRegsuiteServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      INFO(method->full_name());
      const HttpBinding binding = BindingOf(*method);
      CHECK(!binding.verb.empty());
      CHECK(binding.path.rfind("/v1/", 0) == 0);
      CHECK(binding.body == (binding.verb == "GET" || binding.verb == "DELETE" ? "" : "*"));
      for (std::sregex_iterator it(binding.path.begin(), binding.path.end(), variable), end;
           it != end; ++it) {
        const std::string field_path = (*it)[1];
        INFO(field_path);
        const FieldDescriptor* field = FindFieldByPath(method->input_type(), field_path);
        CHECK(field != nullptr);
        if (field != nullptr) {
          CHECK_FALSE(field->is_repeated());
          CHECK(field->message_type() == nullptr);
        }
      }
    }
  }
}

TEST_CASE("no two regsuite methods share an HTTP verb and path") {
  const std::regex variable(R"(\{[^}]*\})");
  std::map<std::string, std::string> owner_by_route;
  for (const ServiceDescriptor* service : AllRegsuiteServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      const HttpBinding binding = BindingOf(*method);
      const std::string route = binding.verb + " " + std::regex_replace(binding.path, variable, "{}");
      const auto [it, inserted] = owner_by_route.emplace(route, method->full_name());
      INFO(route << " is bound by " << it->second << " and " << method->full_name());
      CHECK(inserted);
    }
  }
}

TEST_CASE("every regsuite enum value is prefixed with its enum name and zero is UNSPECIFIED") {
  const std::vector<const EnumDescriptor*> enums = AllRegsuiteEnums();
  CHECK(enums.size() > 20);
  for (const EnumDescriptor* type : enums) {
    INFO(type->full_name());
    const std::string prefix = UpperSnake(type->name()) + "_";
    CHECK(type->value(0)->number() == 0);
    CHECK(type->value(0)->name() == prefix + "UNSPECIFIED");
    for (int i = 0; i < type->value_count(); ++i) {
      INFO(type->value(i)->name());
      CHECK(type->value(i)->name().rfind(prefix, 0) == 0);
    }
  }
}

TEST_CASE("every enum events.v1 mirrors has the same names and numbers as the owning service's") {
  const std::vector<std::pair<std::string, std::string>> mirrors = {
      {"regsuite.events.v1.CertificateStatus", "regsuite.licensing.v1.CertificateStatus"},
      {"regsuite.events.v1.ListType", "regsuite.credit.v1.ListType"},
      {"regsuite.events.v1.PartyType", "regsuite.inspection.v1.PartyType"},
      {"regsuite.disclosure.v1.PartyType", "regsuite.inspection.v1.PartyType"},
      {"regsuite.events.v1.PenaltyKind", "regsuite.inspection.v1.PenaltyKind"},
      {"regsuite.events.v1.Severity", "regsuite.credit.v1.Severity"},
      {"regsuite.inspection.v1.Severity", "regsuite.credit.v1.Severity"},
      {"regsuite.events.v1.InspectionResult", "regsuite.inspection.v1.InspectionResult"},
      {"regsuite.events.v1.RecordCategory", "regsuite.disclosure.v1.RecordCategory"},
  };
  RegsuiteFiles();
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  for (const auto& [mirror_name, source_name] : mirrors) {
    INFO(mirror_name << " mirrors " << source_name);
    const EnumDescriptor* mirror = pool->FindEnumTypeByName(mirror_name);
    const EnumDescriptor* source = pool->FindEnumTypeByName(source_name);
    REQUIRE(mirror != nullptr);
    REQUIRE(source != nullptr);
    CHECK(mirror->value_count() == source->value_count());
    for (int i = 0; i < source->value_count(); ++i) {
      INFO(source->value(i)->name());
      const auto* twin = mirror->FindValueByName(source->value(i)->name());
      CHECK(twin != nullptr);
      if (twin != nullptr) CHECK(twin->number() == source->value(i)->number());
    }
  }
}
