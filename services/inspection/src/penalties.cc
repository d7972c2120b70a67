// Penalties: the discretion benchmark, AssessPenalty, the case from filing (立案) through
// hearing and legal review to the decision, payment with the late fee, annulment.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "inspection_service.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/masking.h"
#include "regsuite/common/status.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;

constexpr char kSelectBenchmark[] = R"SQL(
SELECT violation_code, effective_from::text, violation_name, legal_basis, management_type,
       first_violation_list
FROM discretion_benchmarks WHERE violation_code = $1 AND effective_from <= $2::date
ORDER BY effective_from DESC LIMIT 1
)SQL";
constexpr char kSelectRanges[] = R"SQL(
SELECT circumstance, min_fine_fen, max_fine_fen, array_to_string(kinds, ','), description
FROM discretion_ranges WHERE violation_code = $1 AND effective_from = $2::date
ORDER BY circumstance
)SQL";
constexpr char kCountPriorViolations[] = R"SQL(
SELECT count(*)::int FROM penalty_cases
WHERE uscc = $1 AND violation_code = $2 AND status <> 5 AND case_id <> $3
)SQL";
constexpr char kSelectSme[] = "SELECT specialised_sme FROM enterprises WHERE uscc = $1";
constexpr char kSelectPenaltyByKey[] =
    "SELECT case_id FROM penalty_cases WHERE idempotency_key = $1";
constexpr char kInsertPenalty[] = R"SQL(
INSERT INTO penalty_cases (case_id, idempotency_key, uscc, violation_code, status, filed_date,
  penalty_case)
VALUES ($1, NULLIF($2::text, ''), $3, $4, $5, $6::date, $7)
)SQL";
constexpr char kSelectPenalty[] =
    "SELECT penalty_case, version FROM penalty_cases WHERE case_id = $1";
constexpr char kSelectPenaltyForUpdate[] =
    "SELECT penalty_case, version FROM penalty_cases WHERE case_id = $1 FOR UPDATE";
constexpr char kUpdatePenalty[] = R"SQL(
UPDATE penalty_cases SET status = $2, decided_date = NULLIF($3::text, '')::date,
  decision_no = NULLIF($4::text, ''), fine_fen = $5, penalty_case = $6, version = version + 1,
  update_time = now()
WHERE case_id = $1 RETURNING version
)SQL";
constexpr char kSelectDecisionNo[] =
    "SELECT case_id FROM penalty_cases WHERE decision_no = $1 AND case_id <> $2";
constexpr char kSelectInspectionRow[] =
    "SELECT inspection FROM inspections WHERE inspection_id = $1 FOR UPDATE";
constexpr char kUpdateInspectionCase[] =
    "UPDATE inspections SET inspection = $2, version = version + 1, update_time = now() "
    "WHERE inspection_id = $1";

v1::Severity SeverityOf(v1::Circumstance c) {
  switch (c) {
    case v1::CIRCUMSTANCE_MINOR:
      return v1::SEVERITY_MINOR;
    case v1::CIRCUMSTANCE_GENERAL:
      return v1::SEVERITY_GENERAL;
    default:
      return v1::SEVERITY_SERIOUS;
  }
}

bool HasKind(const google::protobuf::RepeatedField<int>& kinds, v1::PenaltyKind kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}


}  // namespace

absl::StatusOr<DiscretionBenchmark> InspectionServiceImpl::LoadBenchmark(
    pqxx::work& txn, const std::string& code, const std::string& as_of) {
  pqxx::result b = txn.exec_params(kSelectBenchmark, code, as_of);
  if (b.empty()) {
    return FieldError("violation_code",
                      absl::StrCat("'", code, "' has no discretion benchmark in force on ", as_of));
  }
  DiscretionBenchmark bm;
  bm.violation_code = b[0][0].c_str();
  bm.effective_from = b[0][1].c_str();
  bm.violation_name = b[0][2].c_str();
  bm.legal_basis = b[0][3].c_str();
  bm.management_type = b[0][4].as<bool>();
  bm.first_violation_list = b[0][5].as<bool>();
  for (const auto& r : txn.exec_params(kSelectRanges, bm.violation_code, bm.effective_from)) {
    v1::DiscretionRange range;
    range.set_circumstance(static_cast<v1::Circumstance>(r[0].as<int>()));
    range.set_min_fine_fen(r[1].as<int64_t>());
    range.set_max_fine_fen(r[2].as<int64_t>());
    for (const auto& kind : absl::StrSplit(std::string(r[3].c_str()), ',', absl::SkipEmpty())) {
      int value = 0;
      if (absl::SimpleAtoi(kind, &value)) range.add_kinds(static_cast<v1::PenaltyKind>(value));
    }
    range.set_description(r[4].c_str());
    bm.ranges.push_back(std::move(range));
  }
  return bm;
}

absl::Status InspectionServiceImpl::LoadPenalty(pqxx::work& txn, const std::string& id,
                                                bool for_update, v1::PenaltyCase* out,
                                                int64_t* version) {
  pqxx::result row = txn.exec_params(for_update ? kSelectPenaltyForUpdate : kSelectPenalty, id);
  if (row.empty()) return absl::NotFoundError(absl::StrCat("penalty case ", id));
  if (absl::Status s = DecodeMessage(row[0][0].c_str(), out); !s.ok()) return s;
  *version = row[0][1].as<int64_t>();
  out->set_etag(absl::StrCat(*version));
  // The late fee shown is as of today for an unpaid decided case.
  if (out->status() == v1::PENALTY_CASE_STATUS_DECIDED && out->decision().fine_fen() > 0) {
    const absl::CivilDay today = deps_.clock.Today();
    if (auto due = ParseDate(out->payment().due_date()); due.ok()) {
      out->mutable_payment()->set_late_fee_fen(
          LateFeeFen(out->decision().fine_fen(), *due, today,
                     deps_.options.late_fee_per_mille_per_day));
      out->mutable_payment()->set_late_fee_as_of(FormatDate(today));
    }
  }
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::SavePenalty(pqxx::work& txn, v1::PenaltyCase& pc,
                                                int64_t /*version*/) {
  SetTimestamp(deps_.clock.Now(), pc.mutable_update_time());
  v1::PenaltyCase stored = pc;
  stored.clear_etag();
  pqxx::result r = txn.exec_params(kUpdatePenalty, pc.case_id(), static_cast<int>(pc.status()),
                                   pc.decision().decided_date(), pc.decision().decision_no(),
                                   pc.decision().fine_fen(), EncodeMessage(stored));
  pc.set_etag(absl::StrCat(r[0][0].as<int64_t>()));
  return absl::OkStatus();
}

absl::Status InspectionServiceImpl::DoAssessPenalty(const v1::AssessPenaltyRequest& request,
                                                    v1::PenaltyAssessment* response) {
  if (request.violation_code().empty()) return FieldError("violation_code", "is required");
  std::string as_of = request.as_of_date();
  if (as_of.empty()) as_of = FormatDate(deps_.clock.Today());
  if (!ParseDate(as_of).ok()) return FieldError("as_of_date", "must be a YYYY-MM-DD date");
  std::string uscc;
  if (!request.uscc().empty()) {
    auto parsed = common::Uscc::Parse(request.uscc());
    if (!parsed.ok()) return parsed.status();
    uscc = parsed->str();
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    auto bm = LoadBenchmark(txn, request.violation_code(), as_of);
    if (!bm.ok()) return bm.status();
    PartyFacts facts;
    if (!uscc.empty()) {
      facts.first_violation =
          txn.exec_params(kCountPriorViolations, uscc, bm->violation_code, "")[0][0].as<int>() == 0;
      pqxx::result sme = txn.exec_params(kSelectSme, uscc);
      facts.specialised_sme = !sme.empty() && sme[0][0].as<bool>();
      auto tiers = LookUpCreditTiers(txn, {uscc});
      if (!tiers.ok()) return tiers.status();
      auto it = tiers->tiers.find(uscc);
      facts.red_listed = it != tiers->tiers.end() && it->second == 1;
    }
    auto assessment = Assess(*bm, request, facts, deps_.options.thresholds);
    if (!assessment.ok()) return assessment.status();
    *response = *std::move(assessment);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoProposePenalty(const v1::ProposePenaltyRequest& request,
                                                     v1::PenaltyCase* response) {
  v1::Party party = request.party();
  if (party.type() == v1::PARTY_TYPE_UNSPECIFIED || !v1::PartyType_IsValid(party.type())) {
    return FieldError("party.type", "is required");
  }
  if (party.name().empty()) return FieldError("party.name", "is required");
  if (party.type() != v1::PARTY_TYPE_NATURAL_PERSON) {
    auto uscc = common::Uscc::Parse(party.uscc());
    if (!uscc.ok()) return FieldError("party.uscc", uscc.status().message());
    party.set_uscc(uscc->str());
  } else if (!party.id_number().empty()) {
    auto id = common::PersonalId::Parse(party.id_number());
    if (!id.ok()) return FieldError("party.id_number", "not a valid resident ID number");
    party.set_id_number(id->Masked());  // write only: only the masked form is kept
  }
  if (!party.phone().empty()) party.set_phone(common::MaskMobile(party.phone()));
  if (request.violation_code().empty()) return FieldError("violation_code", "is required");
  if (request.facts().empty()) return FieldError("facts", "is required");
  if (request.proposed_fine_fen() < 0) return FieldError("proposed_fine_fen", "must not be negative");
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay filed = today;
  if (!request.filed_date().empty()) {
    auto parsed = ParseDate(request.filed_date());
    if (!parsed.ok()) return FieldError("filed_date", "must be a YYYY-MM-DD date");
    if (*parsed > today) return FieldError("filed_date", "lies in the future");
    filed = *parsed;
  }
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectPenaltyByKey, request.idempotency_key());
      if (!prior.empty()) {
        int64_t version = 0;
        return LoadPenalty(txn, prior[0][0].c_str(), false, response, &version);
      }
    }
    v1::AssessPenaltyRequest assess;
    assess.set_violation_code(request.violation_code());
    assess.set_party_type(party.type());
    assess.set_circumstance(request.circumstance());
    assess.set_uscc(party.uscc());
    assess.set_harm_caused(request.harm_caused());
    assess.set_corrected(request.corrected());
    assess.mutable_proposed_kinds()->CopyFrom(request.proposed_kinds());
    assess.set_proposed_fine_fen(request.proposed_fine_fen());
    assess.set_major_public_interest(request.major_public_interest());
    assess.set_complex_case(request.complex_case());
    assess.set_as_of_date(FormatDate(filed));
    auto bm = LoadBenchmark(txn, request.violation_code(), FormatDate(filed));
    if (!bm.ok()) return bm.status();
    PartyFacts facts;
    if (!party.uscc().empty()) {
      facts.first_violation =
          txn.exec_params(kCountPriorViolations, party.uscc(), bm->violation_code, "")[0][0]
              .as<int>() == 0;
      pqxx::result sme = txn.exec_params(kSelectSme, party.uscc());
      facts.specialised_sme = !sme.empty() && sme[0][0].as<bool>();
      auto tiers = LookUpCreditTiers(txn, {party.uscc()});
      if (!tiers.ok()) return tiers.status();
      auto it = tiers->tiers.find(party.uscc());
      facts.red_listed = it != tiers->tiers.end() && it->second == 1;
    }
    auto assessment = Assess(*bm, assess, facts, deps_.options.thresholds);
    if (!assessment.ok()) return assessment.status();

    v1::PenaltyCase pc;
    pc.set_case_id(common::NewUuid());
    pc.set_inspection_id(request.inspection_id());
    *pc.mutable_party() = party;
    pc.set_violation_code(bm->violation_code);
    pc.set_violation_type(bm->violation_name);
    pc.set_circumstance(request.circumstance());
    pc.set_facts(request.facts());
    pc.set_legal_basis(bm->legal_basis);
    pc.mutable_evidence_refs()->CopyFrom(request.evidence_refs());
    *pc.mutable_assessment() = *assessment;
    pc.mutable_proposed_kinds()->CopyFrom(request.proposed_kinds());
    pc.set_proposed_fine_fen(request.proposed_fine_fen());
    pc.set_status(v1::PENALTY_CASE_STATUS_PROPOSED);
    pc.set_filed_date(FormatDate(filed));
    pc.set_decision_due_date(FormatDate(filed + deps_.options.decision_deadline_cd));
    if (assessment->hearing_required()) {
      auto deadline = deps_.calendar->AddWorkingDays(filed, deps_.options.hearing_request_wd);
      if (!deadline.ok()) return deadline.status();
      pc.mutable_hearing()->set_offered(true);
      pc.mutable_hearing()->set_request_deadline(FormatDate(*deadline));
    }
    pc.mutable_legal_review()->set_required(assessment->legal_review_required());
    SetTimestamp(now, pc.mutable_create_time());
    SetTimestamp(now, pc.mutable_update_time());

    if (!request.inspection_id().empty()) {
      pqxx::result insp_row = txn.exec_params(kSelectInspectionRow, request.inspection_id());
      if (insp_row.empty()) return FieldError("inspection_id", "no such inspection");
      v1::Inspection insp;
      if (absl::Status s = DecodeMessage(insp_row[0][0].c_str(), &insp); !s.ok()) return s;
      if (!insp.case_id().empty()) {
        return common::StateError("inspection", "CASE_FILED", "file a second case");
      }
      insp.set_case_id(pc.case_id());
      txn.exec_params(kUpdateInspectionCase, insp.inspection_id(), EncodeMessage(insp));
    }
    txn.exec_params(kInsertPenalty, pc.case_id(), request.idempotency_key(), party.uscc(),
                    pc.violation_code(), static_cast<int>(pc.status()), pc.filed_date(),
                    EncodeMessage(pc));
    pc.set_etag("1");
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoGetPenalty(const v1::GetPenaltyRequest& request,
                                                 v1::PenaltyCase* response) {
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    int64_t version = 0;
    return LoadPenalty(txn, request.case_id(), false, response, &version);
  });
}

absl::Status InspectionServiceImpl::DoRecordHearing(const v1::RecordHearingRequest& request,
                                                    v1::PenaltyCase* response) {
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::PenaltyCase pc;
    int64_t version = 0;
    if (absl::Status s = LoadPenalty(txn, request.case_id(), true, &pc, &version); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (pc.status() != v1::PENALTY_CASE_STATUS_PROPOSED) {
      return common::StateError("penalty case", v1::PenaltyCaseStatus_Name(pc.status()),
                                "record a hearing");
    }
    if (!pc.hearing().offered()) {
      return absl::FailedPreconditionError("no hearing was offered in this case (Art 63)");
    }
    v1::Hearing* h = pc.mutable_hearing();
    if (request.requested()) {
      auto asked = ParseDate(request.requested_date());
      if (!asked.ok()) return FieldError("requested_date", "a YYYY-MM-DD date is required");
      if (request.requested_date() > h->request_deadline()) {
        return FieldError("requested_date", absl::StrCat("after the request deadline ",
                                                         h->request_deadline(), " (Art 64)"));
      }
      h->set_requested(true);
      h->set_requested_date(request.requested_date());
      if (!request.held_date().empty()) {
        if (!ParseDate(request.held_date()).ok() || request.held_date() < request.requested_date()) {
          return FieldError("held_date", "a YYYY-MM-DD date not before the request");
        }
        if (request.outcome().empty()) return FieldError("outcome", "required once held");
        h->set_held_date(request.held_date());
        h->set_outcome(request.outcome());
      }
    } else {
      if (h->requested()) {
        return common::StateError("hearing", "REQUESTED", "record a waiver");
      }
      h->set_outcome(request.outcome().empty() ? "waived" : request.outcome());
    }
    if (absl::Status s = SavePenalty(txn, pc, version); !s.ok()) return s;
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoRecordLegalReview(
    const v1::RecordLegalReviewRequest& request, v1::PenaltyCase* response) {
  if (request.reviewer().empty()) return FieldError("reviewer", "is required");
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::PenaltyCase pc;
    int64_t version = 0;
    if (absl::Status s = LoadPenalty(txn, request.case_id(), true, &pc, &version); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (pc.status() != v1::PENALTY_CASE_STATUS_PROPOSED) {
      return common::StateError("penalty case", v1::PenaltyCaseStatus_Name(pc.status()),
                                "record a legal review");
    }
    v1::LegalReview* r = pc.mutable_legal_review();
    r->set_passed(request.passed());
    r->set_reviewer(request.reviewer());
    r->set_note(request.note());
    SetTimestamp(deps_.clock.Now(), r->mutable_reviewed_at());
    if (absl::Status s = SavePenalty(txn, pc, version); !s.ok()) return s;
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoDecidePenalty(const v1::DecidePenaltyRequest& request,
                                                    v1::PenaltyCase* response) {
  if (request.decision_no().empty()) return FieldError("decision_no", "is required");
  if (request.kinds_size() == 0) return FieldError("kinds", "at least one penalty kind");
  if (request.fine_fen() < 0) return FieldError("fine_fen", "must not be negative");
  const bool has_fine = HasKind(request.kinds(), v1::PENALTY_KIND_FINE);
  if (has_fine != (request.fine_fen() > 0)) {
    return FieldError("fine_fen", "a FINE kind needs a positive fine and a fine needs the FINE kind");
  }
  const bool suspends = HasKind(request.kinds(), v1::PENALTY_KIND_LICENCE_SUSPENSION);
  const bool revokes = HasKind(request.kinds(), v1::PENALTY_KIND_LICENCE_REVOCATION);
  if ((suspends || revokes) && request.licence_certificate_no().empty()) {
    return FieldError("licence_certificate_no", "required to suspend or revoke a licence");
  }
  if (suspends && !ParseDate(request.licence_suspended_until()).ok()) {
    return FieldError("licence_suspended_until", "a YYYY-MM-DD date is required for a suspension");
  }
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay decided = today;
  if (!request.decided_date().empty()) {
    auto parsed = ParseDate(request.decided_date());
    if (!parsed.ok()) return FieldError("decided_date", "must be a YYYY-MM-DD date");
    if (*parsed > today) return FieldError("decided_date", "lies in the future");
    decided = *parsed;
  }
  if (request.decided_by().empty()) return FieldError("decided_by", "is required");
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::PenaltyCase pc;
    int64_t version = 0;
    if (absl::Status s = LoadPenalty(txn, request.case_id(), true, &pc, &version); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (pc.status() != v1::PENALTY_CASE_STATUS_PROPOSED) {
      return common::StateError("penalty case", v1::PenaltyCaseStatus_Name(pc.status()), "decide");
    }
    const std::string decided_text = FormatDate(decided);
    if (decided_text < pc.filed_date()) return FieldError("decided_date", "before the filing date");
    if (decided_text > pc.decision_due_date()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "decision deadline ", pc.decision_due_date(), " (", deps_.options.decision_deadline_cd,
          " CD after filing, Art 60) has passed"));
    }
    if (!txn.exec_params(kSelectDecisionNo, request.decision_no(), pc.case_id()).empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("decision_no: '", request.decision_no(), "' is already used"));
    }
    if (pc.legal_review().required() && !pc.legal_review().passed()) {
      return absl::FailedPreconditionError(
          "legal review (法制审核, Art 58) is required and has not passed");
    }
    const v1::Hearing& hearing = pc.hearing();
    if (hearing.offered()) {
      if (hearing.requested() && hearing.held_date().empty()) {
        return absl::FailedPreconditionError("the party asked for a hearing; it has not been held");
      }
      if (!hearing.requested() && hearing.outcome().empty() &&
          decided_text <= hearing.request_deadline()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the party may ask for a hearing until ", hearing.request_deadline(), " (Art 64)"));
      }
    }
    const auto outcome = pc.assessment().outcome();
    const bool only_warning =
        std::all_of(request.kinds().begin(), request.kinds().end(),
                    [](int k) { return k == v1::PENALTY_KIND_WARNING; });
    if (outcome == v1::PENALTY_OUTCOME_NO_PENALTY ||
        outcome == v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY) {
      if (!only_warning && request.outside_range_reason().empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the assessment found ", v1::PenaltyOutcome_Name(outcome),
            " (Art 33); a penalty needs a recorded outside_range_reason"));
      }
    }
    // Outside the benchmark (fine or kind) needs a recorded reason.
    const auto& range = pc.assessment().applicable_range();
    bool within = request.fine_fen() <= range.max_fine_fen() &&
                  (request.fine_fen() >= range.min_fine_fen() || !has_fine);
    for (int k : request.kinds()) {
      if (std::find(range.kinds().begin(), range.kinds().end(), k) == range.kinds().end()) {
        within = false;
      }
    }
    if (!within && request.outside_range_reason().empty()) {
      return FieldError("outside_range_reason",
                        absl::StrCat("required: the penalty lies outside the discretion "
                                     "benchmark (", range.min_fine_fen(), "–",
                                     range.max_fine_fen(), " fen, allowed kinds)"));
    }
    const bool person = IsPersonParty(pc.party().type());
    const int64_t simple_max = person ? deps_.options.thresholds.simple_max_person_fen
                                      : deps_.options.thresholds.simple_max_organisation_fen;
    const bool simple =
        std::all_of(request.kinds().begin(), request.kinds().end(),
                    [](int k) {
                      return k == v1::PENALTY_KIND_WARNING || k == v1::PENALTY_KIND_FINE;
                    }) &&
        request.fine_fen() <= simple_max;

    v1::PenaltyDecision* d = pc.mutable_decision();
    d->set_decision_no(request.decision_no());
    d->mutable_kinds()->CopyFrom(request.kinds());
    d->set_fine_fen(request.fine_fen());
    d->set_confiscation_fen(request.confiscation_fen());
    d->set_content(request.content());
    d->set_decided_date(decided_text);
    d->set_decided_by(request.decided_by());
    d->set_authority(request.authority().empty() ? deps_.options.authority : request.authority());
    d->set_outside_range_reason(request.outside_range_reason());
    d->set_severity(request.severity() == v1::SEVERITY_UNSPECIFIED ? SeverityOf(pc.circumstance())
                                                                   : request.severity());
    d->set_simple_procedure(simple);
    d->set_fine_multiple(request.fine_multiple());
    d->set_licence_certificate_no(request.licence_certificate_no());
    d->set_licence_suspended_until(request.licence_suspended_until());
    if (request.fine_fen() > 0) {
      pc.mutable_payment()->set_due_date(FormatDate(decided + deps_.options.payment_due_cd));
      pc.set_status(v1::PENALTY_CASE_STATUS_DECIDED);
    } else {
      pc.set_status(v1::PENALTY_CASE_STATUS_CLOSED);
    }
    if (absl::Status s = SavePenalty(txn, pc, version); !s.ok()) return s;

    events::v1::PenaltyDecided decided_event;
    decided_event.set_case_id(pc.case_id());
    decided_event.set_decision_no(d->decision_no());
    decided_event.set_decision_date(decided_text);
    decided_event.set_party_type(static_cast<events::v1::PartyType>(pc.party().type()));
    decided_event.set_party_name(pc.party().name());
    decided_event.set_uscc(pc.party().uscc());
    decided_event.set_other_code_masked(pc.party().id_number());
    decided_event.set_legal_representative(pc.party().legal_representative());
    decided_event.set_party_is_minor(pc.party().is_minor());
    decided_event.set_violation_code(pc.violation_code());
    decided_event.set_violation_type(pc.violation_type());
    decided_event.set_facts(pc.facts());
    decided_event.set_legal_basis(pc.legal_basis());
    for (int k : d->kinds()) decided_event.add_kinds(static_cast<events::v1::PenaltyKind>(k));
    decided_event.set_content(d->content());
    decided_event.set_fine_fen(d->fine_fen());
    decided_event.set_confiscation_fen(d->confiscation_fen());
    decided_event.set_authority(d->authority());
    decided_event.set_severity(static_cast<events::v1::Severity>(d->severity()));
    decided_event.set_simple_procedure(simple);
    decided_event.set_fine_multiple(d->fine_multiple());
    std::vector<std::string> targets = {"credit"};
    // Warnings alone, simple-procedure penalties and minors are not published.
    if (!only_warning && !simple && !pc.party().is_minor()) targets.push_back("disclosure");
    for (const auto& target : targets) {
      auto enqueued = common::EnqueueOutbox(
          txn, common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod(target),
                                         "penalty_case", pc.case_id(),
                                         "inspection.penalty_decided", decided_event, now));
      if (!enqueued.ok()) return enqueued.status();
    }
    if (suspends || revokes) {
      events::v1::LicenceSanctionOrdered sanction;
      sanction.set_case_id(pc.case_id());
      sanction.set_decision_no(d->decision_no());
      sanction.set_decision_date(decided_text);
      sanction.set_uscc(pc.party().uscc());
      sanction.set_certificate_no(d->licence_certificate_no());
      sanction.set_sanction(revokes ? events::v1::LICENCE_SANCTION_REVOKE
                                    : events::v1::LICENCE_SANCTION_SUSPEND);
      sanction.set_effective_date(decided_text);
      if (!revokes) sanction.set_suspended_until(d->licence_suspended_until());
      sanction.set_reason(pc.violation_type());
      sanction.set_legal_basis(pc.legal_basis());
      sanction.set_authority(d->authority());
      auto enqueued = common::EnqueueOutbox(
          txn, common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod("licensing"),
                                         "penalty_case", pc.case_id(),
                                         "inspection.licence_sanction_ordered", sanction, now));
      if (!enqueued.ok()) return enqueued.status();
    }
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoRecordPayment(const v1::RecordPaymentRequest& request,
                                                    v1::PenaltyCase* response) {
  if (request.paid_fen() <= 0) return FieldError("paid_fen", "must be positive");
  const absl::CivilDay today = deps_.clock.Today();
  absl::CivilDay paid = today;
  if (!request.paid_date().empty()) {
    auto parsed = ParseDate(request.paid_date());
    if (!parsed.ok()) return FieldError("paid_date", "must be a YYYY-MM-DD date");
    if (*parsed > today) return FieldError("paid_date", "lies in the future");
    paid = *parsed;
  }
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::PenaltyCase pc;
    int64_t version = 0;
    if (absl::Status s = LoadPenalty(txn, request.case_id(), true, &pc, &version); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (pc.status() != v1::PENALTY_CASE_STATUS_DECIDED) {
      return common::StateError("penalty case", v1::PenaltyCaseStatus_Name(pc.status()),
                                "record a payment");
    }
    if (FormatDate(paid) < pc.decision().decided_date()) {
      return FieldError("paid_date", "before the decision");
    }
    v1::Payment* p = pc.mutable_payment();
    auto due = ParseDate(p->due_date());
    if (!due.ok()) return due.status();
    const int64_t fee = LateFeeFen(pc.decision().fine_fen(), *due, paid,
                                   deps_.options.late_fee_per_mille_per_day);
    p->set_paid_fen(p->paid_fen() + request.paid_fen());
    p->set_paid_date(FormatDate(paid));
    p->set_receipt_ref(request.receipt_ref());
    p->set_late_fee_fen(fee);
    p->set_late_fee_as_of(FormatDate(paid));
    if (p->paid_fen() >= pc.decision().fine_fen() + fee) {
      pc.set_status(v1::PENALTY_CASE_STATUS_PAID);
    }
    if (absl::Status s = SavePenalty(txn, pc, version); !s.ok()) return s;
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

absl::Status InspectionServiceImpl::DoAnnulPenalty(const v1::AnnulPenaltyRequest& request,
                                                   v1::PenaltyCase* response) {
  if (request.reason().empty()) return FieldError("reason", "is required");
  if (request.changed() && request.replacement_decision_no().empty()) {
    return FieldError("replacement_decision_no", "required when the decision was changed");
  }
  const absl::CivilDay today = deps_.clock.Today();
  std::string annulled = request.annulled_date().empty() ? FormatDate(today) : request.annulled_date();
  if (!ParseDate(annulled).ok()) return FieldError("annulled_date", "must be a YYYY-MM-DD date");
  const absl::Time now = deps_.clock.Now();
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    v1::PenaltyCase pc;
    int64_t version = 0;
    if (absl::Status s = LoadPenalty(txn, request.case_id(), true, &pc, &version); !s.ok()) return s;
    if (absl::Status s = CheckEtag(request.etag(), version); !s.ok()) return s;
    if (pc.status() == v1::PENALTY_CASE_STATUS_PROPOSED ||
        pc.status() == v1::PENALTY_CASE_STATUS_ANNULLED) {
      return common::StateError("penalty case", v1::PenaltyCaseStatus_Name(pc.status()), "annul");
    }
    v1::Annulment* a = pc.mutable_annulment();
    a->set_reason(request.reason());
    a->set_annulled_date(annulled);
    a->set_changed(request.changed());
    a->set_replacement_decision_no(request.replacement_decision_no());
    a->set_ordered_by(request.ordered_by());
    pc.set_status(v1::PENALTY_CASE_STATUS_ANNULLED);
    if (absl::Status s = SavePenalty(txn, pc, version); !s.ok()) return s;
    events::v1::PenaltyDecisionAnnulled event;
    event.set_case_id(pc.case_id());
    event.set_decision_no(pc.decision().decision_no());
    event.set_uscc(pc.party().uscc());
    event.set_annulled_date(annulled);
    event.set_reason(request.reason());
    event.set_changed(request.changed());
    event.set_replacement_decision_no(request.replacement_decision_no());
    for (const char* target : {"credit", "disclosure"}) {
      auto enqueued = common::EnqueueOutbox(
          txn, common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod(target),
                                         "penalty_case", pc.case_id(),
                                         "inspection.penalty_annulled", event, now));
      if (!enqueued.ok()) return enqueued.status();
    }
    *response = std::move(pc);
    return absl::OkStatus();
  });
}

}  // namespace regsuite::inspection
