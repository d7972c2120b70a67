#include "event_intake.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "publication_rules.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/log.h"

namespace regsuite::disclosure {
namespace {

using events::v1::EventEnvelope;
using v1::PublishRecordRequest;

void SetAttributes(const google::protobuf::Message& payload, v1::PublishedRecord& record) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(payload, &json);
  (void)google::protobuf::util::JsonStringToMessage(json, record.mutable_attributes());
}

std::string PenaltyCategoryText(const events::v1::PenaltyDecided& p) {
  std::vector<std::string> names;
  for (int kind : p.kinds()) {
    switch (kind) {
      case events::v1::PENALTY_KIND_WARNING:
        names.push_back("警告");
        break;
      case events::v1::PENALTY_KIND_CIRCULATED_CRITICISM:
        names.push_back("通报批评");
        break;
      case events::v1::PENALTY_KIND_FINE:
        names.push_back("罚款");
        break;
      case events::v1::PENALTY_KIND_CONFISCATION:
        names.push_back("没收违法所得、没收非法财物");
        break;
      case events::v1::PENALTY_KIND_LICENCE_SUSPENSION:
        names.push_back("暂扣许可证件");
        break;
      case events::v1::PENALTY_KIND_QUALIFICATION_DOWNGRADE:
        names.push_back("降低资质等级");
        break;
      case events::v1::PENALTY_KIND_LICENCE_REVOCATION:
        names.push_back("吊销许可证件");
        break;
      case events::v1::PENALTY_KIND_OPERATIONS_RESTRICTION:
        names.push_back("限制开展生产经营活动");
        break;
      case events::v1::PENALTY_KIND_SUSPENSION_OF_BUSINESS:
        names.push_back("责令停产停业");
        break;
      case events::v1::PENALTY_KIND_CLOSURE:
        names.push_back("责令关闭");
        break;
      case events::v1::PENALTY_KIND_EMPLOYMENT_RESTRICTION:
        names.push_back("限制从业");
        break;
      case events::v1::PENALTY_KIND_OTHER:
        names.push_back("其他");
        break;
      default:
        break;
    }
  }
  return absl::StrJoin(names, "；");
}

}  // namespace

std::string CertificateStatusText(events::v1::CertificateStatus status) {
  switch (status) {
    case events::v1::CERTIFICATE_STATUS_VALID:
      return "有效";
    case events::v1::CERTIFICATE_STATUS_SUSPENDED:
      return "暂扣";
    case events::v1::CERTIFICATE_STATUS_REVOKED:
      return "吊销";
    case events::v1::CERTIFICATE_STATUS_EXPIRED:
      return "过期";
    case events::v1::CERTIFICATE_STATUS_CANCELLED:
      return "注销";
    default:
      return "未知";
  }
}

absl::Status EventIntake::Apply(pqxx::work& txn, const EventEnvelope& envelope) {
  const std::string& type = envelope.payload_type();
  if (type == "regsuite.events.v1.LicensingDecisionMade") return OnLicensingDecision(txn, envelope);
  if (type == "regsuite.events.v1.CertificateStatusChanged")
    return OnCertificateStatus(txn, envelope);
  if (type == "regsuite.events.v1.PenaltyDecided") return OnPenaltyDecided(txn, envelope);
  if (type == "regsuite.events.v1.PenaltyDecisionAnnulled") return OnPenaltyAnnulled(txn, envelope);
  if (type == "regsuite.events.v1.ListingChanged") return OnListingChanged(txn, envelope);
  if (type == "regsuite.events.v1.DrawPublished") return OnDraw(txn, envelope);
  if (type == "regsuite.events.v1.MonthlyPlanPublished") return OnMonthlyPlan(txn, envelope);
  if (type == "regsuite.events.v1.InspectionResultPublished") {
    return OnInspectionResult(txn, envelope);
  }
  common::LogInfo("disclosure ignores this event type",
                  {{"event_type", envelope.event_type()}, {"payload_type", type}});
  return absl::OkStatus();
}

absl::Status EventIntake::PublishOrRefuse(pqxx::work& txn, const EventEnvelope& envelope,
                                          const PublishRecordRequest& request) {
  auto published = publications_.PublishInTxn(txn, request);
  if (published.ok()) return absl::OkStatus();
  // Rules about the content are refusals; anything else (a calendar year without data, the
  // database) fails the delivery so that the relay retries it later.
  const auto code = published.status().code();
  const absl::string_view message = published.status().message();
  const bool content_rule =
      code == absl::StatusCode::kInvalidArgument ||
      (code == absl::StatusCode::kFailedPrecondition &&
       (absl::StartsWith(message, "penalty.") || absl::StartsWith(message, "record.")));
  if (content_rule) {
    const auto& r = request.record();
    std::string decided = r.decision_date();
    if (decided.empty() && r.has_penalty()) decided = r.penalty().decision_date();
    if (decided.empty() && r.has_licence()) decided = r.licence().decision_date();
    return publications_.RecordRefusal(txn, envelope.event_id(), r.source().service(),
                                       r.source().source_id(), r.category(), decided,
                                       published.status().message());
  }
  return published.status();
}

absl::Status EventIntake::WithdrawSource(pqxx::work& txn, const std::string& service,
                                         const std::string& source_id, v1::RecordCategory category,
                                         const std::string& reason, const std::string& changed_date,
                                         events::v1::RecordRemoval removal) {
  auto index_no = publications_.FindBySource(txn, service, source_id, category);
  if (!index_no.ok()) return index_no.status();
  if (!index_no->has_value()) return absl::OkStatus();  // never published: nothing to withdraw
  auto record = publications_.LoadOriginalForUpdate(txn, **index_no);
  if (!record.ok()) return record.status();
  if (record->status() != v1::RECORD_STATUS_PUBLISHED &&
      record->status() != v1::RECORD_STATUS_PENDING_REVIEW) {
    return absl::OkStatus();
  }
  if (removal == events::v1::RECORD_REMOVAL_EXPIRED) {
    return publications_.ExpireInTxn(txn, **index_no, publications_.clock().Today());
  }
  v1::WithdrawRecordRequest request;
  request.set_index_no(**index_no);
  request.set_reason(reason);
  request.set_withdrawn_by(absl::StrCat(service, " event"));
  if (common::ParseDate(changed_date).ok() &&
      *common::ParseDate(changed_date) <= publications_.clock().Today()) {
    request.set_decision_changed_date(changed_date);
  }
  auto withdrawn = publications_.WithdrawInTxn(txn, request, removal);
  return withdrawn.status();
}

absl::Status EventIntake::OnLicensingDecision(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::LicensingDecisionMade e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  if (e.outcome() == events::v1::LICENSING_OUTCOME_DENIED) {
    return publications_.RecordRefusal(
        txn, envelope.event_id(), "licensing", e.application_id(),
        v1::RECORD_CATEGORY_LICENSING_DECISION, e.decision_date(),
        "licensing: a denial is notified to the applicant, not published as a 双公示 licence");
  }
  PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_LICENSING_DECISION);
  r->mutable_source()->set_service("licensing");
  r->mutable_source()->set_source_id(e.application_id());
  r->mutable_source()->set_event_id(envelope.event_id());
  r->set_title(absl::StrCat(e.party_name(), " ", e.permit_type_name(), e.renewal() ? "延续" : "",
                            "行政许可决定"));
  r->set_body(e.content());
  auto* l = r->mutable_licence();
  l->set_party_name(e.party_name());
  l->set_uscc(e.uscc());
  l->set_legal_representative(e.legal_representative());
  l->set_decision_no(e.decision_no());
  l->set_permit_category(e.permit_type_name());
  l->set_certificate_name(e.certificate_name());
  l->set_certificate_no(e.certificate_no());
  l->set_content(e.content());
  l->set_decision_date(e.decision_date());
  l->set_valid_from(e.valid_from());
  l->set_valid_until(e.valid_until());
  l->set_authority(e.authority());
  l->set_status("有效");
  return PublishOrRefuse(txn, envelope, request);
}

absl::Status EventIntake::OnCertificateStatus(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::CertificateStatusChanged e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  auto index_no = publications_.FindByCertificate(txn, e.certificate_no());
  if (!index_no.ok()) return index_no.status();
  if (!index_no->has_value()) {
    return publications_.RecordRefusal(txn, envelope.event_id(), "licensing", e.certificate_no(),
                                       v1::RECORD_CATEGORY_LICENSING_DECISION, "",
                                       "licensing: no published licence carries this certificate");
  }
  auto record = publications_.LoadOriginalForUpdate(txn, **index_no);
  if (!record.ok()) return record.status();
  auto* l = record->mutable_licence();
  l->set_status(CertificateStatusText(e.status()));
  if (!e.holder_name().empty()) {  // a 变更 (licensing.certificate_changed) renames the holder
    record->set_title(RenamedLicenceTitle(record->title(), l->party_name(), e.holder_name()));
    l->set_party_name(e.holder_name());
    record->set_subject_name(e.holder_name());
  }
  if (!e.legal_representative().empty()) l->set_legal_representative(e.legal_representative());
  if (!e.valid_from().empty()) l->set_valid_from(e.valid_from());
  if (!e.valid_until().empty()) l->set_valid_until(e.valid_until());
  auto saved = publications_.Save(txn, *std::move(record), /*announce=*/true);
  return saved.status();
}

absl::Status EventIntake::OnPenaltyDecided(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::PenaltyDecided e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id(e.case_id());
  r->mutable_source()->set_event_id(envelope.event_id());
  r->set_title(absl::StrCat(e.party_name(), " 行政处罚决定（", e.decision_no(), "）"));
  r->set_body(e.facts());
  auto* p = r->mutable_penalty();
  p->set_party_name(e.party_name());
  p->set_party_category(static_cast<v1::PartyType>(e.party_type()));
  p->set_uscc(e.uscc());
  p->set_other_code(e.other_code_masked());
  p->set_legal_representative(e.legal_representative());
  p->set_decision_no(e.decision_no());
  p->set_violation_type(e.violation_type());
  p->set_facts(e.facts());
  p->set_legal_basis(e.legal_basis());
  p->set_penalty_category(PenaltyCategoryText(e));
  p->set_content(e.content());
  p->set_fine_fen(e.fine_fen());
  p->set_decision_date(e.decision_date());
  p->set_authority(e.authority());
  p->set_severity(e.severity());
  p->set_party_is_minor(e.party_is_minor());
  p->set_simple_procedure(e.simple_procedure());
  for (int kind : e.kinds()) p->add_kinds(static_cast<events::v1::PenaltyKind>(kind));
  return PublishOrRefuse(txn, envelope, request);
}

absl::Status EventIntake::OnPenaltyAnnulled(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::PenaltyDecisionAnnulled e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  std::string reason = e.changed() ? absl::StrCat("处罚决定已变更（", e.replacement_decision_no(),
                                                  "）：", e.reason())
                                   : absl::StrCat("处罚决定已撤销：", e.reason());
  return WithdrawSource(txn, "inspection", e.case_id(), v1::RECORD_CATEGORY_PENALTY_DECISION,
                        reason, e.annulled_date(), events::v1::RECORD_REMOVAL_WITHDRAWN);
}

absl::Status EventIntake::OnListingChanged(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::ListingChanged e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  const bool black = e.list_type() == events::v1::LIST_TYPE_BLACK;
  switch (e.change()) {
    case events::v1::LISTING_CHANGE_PUBLISHED:
    case events::v1::LISTING_CHANGE_RESTORED: {
      auto existing = publications_.FindBySource(txn, "credit", e.listing_id(),
                                                 v1::RECORD_CATEGORY_CREDIT_LISTING);
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) {
        // A restored listing (repair revoked) is published again under its index number.
        auto record = publications_.LoadOriginalForUpdate(txn, **existing);
        if (!record.ok()) return record.status();
        if (record->status() == v1::RECORD_STATUS_PUBLISHED) return absl::OkStatus();
        if (record->status() != v1::RECORD_STATUS_WITHDRAWN) return absl::OkStatus();
        record->set_status(v1::RECORD_STATUS_PUBLISHED);
        record->clear_withdrawal_reason();
        record->clear_withdrawn_at();
        record->clear_removed_date();
        record->set_publish_date(common::FormatDate(publications_.clock().Today()));
        return publications_.Save(txn, *std::move(record), /*announce=*/true).status();
      }
      PublishRecordRequest request;
      auto* r = request.mutable_record();
      r->set_category(v1::RECORD_CATEGORY_CREDIT_LISTING);
      r->mutable_source()->set_service("credit");
      r->mutable_source()->set_source_id(e.listing_id());
      r->mutable_source()->set_event_id(envelope.event_id());
      const char* list_name = black ? "严重失信主体名单" : "守信红名单";
      r->set_title(absl::StrCat(e.subject_name(), " 列入", list_name));
      r->set_body(e.reason());
      auto* c = r->mutable_credit_listing();
      c->set_listing_id(e.listing_id());
      c->set_list_name(list_name);
      c->set_subject_name(e.subject_name());
      c->set_uscc(e.uscc());
      c->set_reason(e.reason());
      c->set_basis(e.basis());
      c->set_decision_no(e.decision_no());
      c->set_effective_from(e.effective_from().empty() ? e.change_date() : e.effective_from());
      c->set_effective_until(e.effective_until());
      c->set_authority(e.authority());
      return PublishOrRefuse(txn, envelope, request);
    }
    case events::v1::LISTING_CHANGE_REPAIRED:
      return WithdrawSource(
          txn, "credit", e.listing_id(), v1::RECORD_CATEGORY_CREDIT_LISTING,
          absl::StrCat("信用修复，提前移出名单", e.reason().empty() ? "" : "：", e.reason()),
          e.change_date(), events::v1::RECORD_REMOVAL_WITHDRAWN);
    case events::v1::LISTING_CHANGE_REMOVED:
      return WithdrawSource(txn, "credit", e.listing_id(), v1::RECORD_CATEGORY_CREDIT_LISTING,
                            absl::StrCat("移出名单", e.reason().empty() ? "" : "：", e.reason()),
                            e.change_date(), events::v1::RECORD_REMOVAL_WITHDRAWN);
    case events::v1::LISTING_CHANGE_EXPIRED:
      return WithdrawSource(txn, "credit", e.listing_id(), v1::RECORD_CATEGORY_CREDIT_LISTING,
                            "管理期届满", e.change_date(), events::v1::RECORD_REMOVAL_EXPIRED);
    default:
      return absl::OkStatus();
  }
}

absl::Status EventIntake::OnDraw(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::DrawPublished e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_INSPECTION_DRAW);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id(e.draw_id());
  r->mutable_source()->set_event_id(envelope.event_id());
  r->set_title(absl::StrCat("双随机抽查结果：", e.check_item_name()));
  std::vector<std::string> names;
  for (const auto& enterprise : e.enterprises()) names.push_back(enterprise.name());
  r->set_body(absl::StrCat("抽取检查对象 ", e.enterprises_size(), " 家（候选 ", e.candidate_count(),
                           " 家）：", absl::StrJoin(names, "、")));
  if (e.has_drawn_at()) {
    r->set_decision_date(common::FormatDate(
        absl::ToCivilDay(absl::FromUnixSeconds(e.drawn_at().seconds()), common::BureauTimeZone())));
  }
  SetAttributes(e, *r);
  return PublishOrRefuse(txn, envelope, request);
}

absl::Status EventIntake::OnMonthlyPlan(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::MonthlyPlanPublished e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_MONTHLY_INSPECTION_PLAN);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id(e.plan_id());
  r->mutable_source()->set_event_id(envelope.event_id());
  r->set_title(absl::StrCat(e.month(), " 月度执法检查计划"));
  std::vector<std::string> names;
  for (const auto& entry : e.entries()) names.push_back(entry.enterprise_name());
  r->set_body(absl::StrCat("计划检查 ", e.entries_size(), " 家：", absl::StrJoin(names, "、")));
  r->set_decision_date(e.published_date());
  SetAttributes(e, *r);
  return PublishOrRefuse(txn, envelope, request);
}

absl::Status EventIntake::OnInspectionResult(pqxx::work& txn, const EventEnvelope& envelope) {
  events::v1::InspectionResultPublished e;
  if (absl::Status s = common::UnpackPayload(envelope, &e); !s.ok()) return s;
  PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_INSPECTION_RESULT);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id(e.inspection_id());
  r->mutable_source()->set_event_id(envelope.event_id());
  r->set_title(absl::StrCat(e.enterprise_name(), " 检查结果（",
                            absl::StrJoin(e.check_item_names(), "、"), "）"));
  r->set_body(e.summary());
  r->set_uscc(e.uscc());
  r->set_subject_name(e.enterprise_name());
  r->set_authority(e.authority());
  r->set_decision_date(e.closed_date().empty() ? e.inspected_date() : e.closed_date());
  SetAttributes(e, *r);
  return PublishOrRefuse(txn, envelope, request);
}

}  // namespace regsuite::disclosure
