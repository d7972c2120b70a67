// InspectionService end to end over gRPC against a real PostgreSQL (a throwaway schema):
// import with bad rows, reproducible draws verified after the directory changed, the
// four-step inspection with hazards, and the penalty flow with its events.
#include "inspection_harness.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/events.h"

using namespace inspection_test;

namespace {

v1::RecordEntry Entry(v1::InspectionStep step, const std::string& what) {
  v1::RecordEntry e;
  e.set_step(step);
  e.set_kind(v1::RECORD_ENTRY_KIND_DOCUMENT);
  e.set_description(what);
  e.set_document_ref(absl::StrCat("doc://", what));
  e.set_content_hash(regsuite::common::Sha256Hex(what));
  e.set_recorded_by("I001");
  return e;
}

}  // namespace

TEST_CASE("import validates every row: bad rows are reported with field and reason, good rows upserted") {
  Harness h;
  v1::ImportEnterprisesRequest import;
  *import.add_enterprises() = EnterpriseRow(1);
  auto bad_check = EnterpriseRow(2);
  bad_check.set_uscc("913100007109242800");
  *import.add_enterprises() = bad_check;
  auto no_industry = EnterpriseRow(3);
  no_industry.clear_industry();
  *import.add_enterprises() = no_industry;
  *import.add_enterprises() = EnterpriseRow(1);  // duplicate in batch
  *import.add_enterprises() = EnterpriseRow(4);
  import.set_batch_id("batch-1");
  v1::ImportEnterprisesResponse report;
  REQUIRE(CALL(h, ImportEnterprises, import, &report).ok());
  CHECK(report.received() == 5);
  CHECK(report.inserted() == 2);
  CHECK(report.rejected() == 3);
  REQUIRE(report.rejected_rows_size() == 3);
  CHECK(report.rejected_rows(0).row_index() == 1);
  CHECK(report.rejected_rows(0).field() == "uscc");
  CHECK(report.rejected_rows(0).reason() == "check character mismatch");
  CHECK(report.rejected_rows(1).field() == "industry");
  CHECK(report.rejected_rows(2).reason().find("duplicate of row 0") != std::string::npos);
  CHECK(h.Count("SELECT count(*) FROM enterprises") == 2);

  SECTION("the same batch id returns the first report and writes nothing") {
    v1::ImportEnterprisesResponse again;
    REQUIRE(CALL(h, ImportEnterprises, import, &again).ok());
    CHECK(again.inserted() == 2);
  }
  SECTION("re-importing unchanged rows counts them unchanged; a changed row counts as updated") {
    v1::ImportEnterprisesRequest second;
    *second.add_enterprises() = EnterpriseRow(1);
    auto changed = EnterpriseRow(4);
    changed.set_name("企业4（更名）");
    *second.add_enterprises() = changed;
    v1::ImportEnterprisesResponse r2;
    REQUIRE(CALL(h, ImportEnterprises, second, &r2).ok());
    CHECK(r2.unchanged() == 1);
    CHECK(r2.updated() == 1);
  }
  SECTION("dry run validates and writes nothing") {
    v1::ImportEnterprisesRequest dry;
    *dry.add_enterprises() = EnterpriseRow(9);
    dry.set_dry_run(true);
    v1::ImportEnterprisesResponse r3;
    REQUIRE(CALL(h, ImportEnterprises, dry, &r3).ok());
    CHECK(h.Count("SELECT count(*) FROM enterprises") == 2);
  }
}

TEST_CASE("UpsertEnterprise rejects a bad USCC with INVALID_ARGUMENT naming uscc; a stale etag is ABORTED") {
  Harness h;
  v1::UpsertEnterpriseRequest req;
  *req.mutable_enterprise() = EnterpriseRow(1);
  req.mutable_enterprise()->set_uscc("913100007109242800");
  v1::Enterprise out;
  grpc::Status s = CALL(h, UpsertEnterprise, req, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "uscc: check character mismatch");
  *req.mutable_enterprise() = EnterpriseRow(1);
  REQUIRE(CALL(h, UpsertEnterprise, req, &out).ok());
  CHECK(out.etag() == "1");
  req.mutable_enterprise()->set_name("新名称");
  req.set_etag("1");
  REQUIRE(CALL(h, UpsertEnterprise, req, &out).ok());
  CHECK(out.etag() == "2");
  CHECK(CALL(h, UpsertEnterprise, req, &out).error_code() == grpc::StatusCode::ABORTED);
}

TEST_CASE("a draw is reproducible, publishes to disclosure, and VerifyDraw still verifies after the directory changed") {
  Harness h;
  SeedDirectory(h, 40, 6);
  v1::DrawInspectionsRequest req;
  req.set_check_item_code("WHP-01");
  req.mutable_filter()->set_region_code("3301");
  req.set_count(8);
  req.set_team_size(2);
  req.set_seed(20261123);
  v1::Draw draw;
  REQUIRE(CALL(h, DrawInspections, req, &draw).ok());
  CHECK(draw.seed() == 20261123);
  CHECK(draw.algorithm() == "sha256-ctr-fisher-yates/v1");
  CHECK(draw.candidate_count() == 40);
  CHECK(draw.inspector_count() == 6);
  CHECK(draw.enterprises_size() == 8);
  CHECK(draw.credit_check() == "not needed");
  for (const auto& team : draw.teams()) CHECK(team.members_size() == 2);
  for (const auto& e : draw.enterprises()) {
    if (e.uscc() == MakeUscc(1)) {
      for (const auto& m : draw.teams(e.team_index()).members()) CHECK(m.inspector_id() != "I000");
    }
  }
  CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = 'inspection.draw_published'") == 1);

  v1::Draw again;
  REQUIRE(CALL(h, DrawInspections, req, &again).ok());
  CHECK(again.result_hash() == draw.result_hash());
  CHECK(again.draw_id() != draw.draw_id());

  v1::VerifyDrawRequest verify;
  verify.set_draw_id(draw.draw_id());
  v1::VerifyDrawResponse verified;
  REQUIRE(CALL(h, VerifyDraw, verify, &verified).ok());
  CHECK(verified.matches());
  CHECK(verified.recomputed_result_hash() == draw.result_hash());

  // The directory changes: new enterprises, an inspector deactivated.
  v1::ImportEnterprisesRequest more;
  for (int i = 41; i <= 45; ++i) *more.add_enterprises() = EnterpriseRow(i);
  v1::ImportEnterprisesResponse report;
  REQUIRE(CALL(h, ImportEnterprises, more, &report).ok());
  h.Exec("UPDATE inspectors SET active = false WHERE inspector_id = 'I002'");

  v1::VerifyDrawResponse after;
  REQUIRE(CALL(h, VerifyDraw, verify, &after).ok());
  CHECK(after.matches());
  CHECK(after.candidate_snapshot_matches());
  CHECK(after.inspector_snapshot_matches());
  CHECK(after.mismatch_reason().empty());

  v1::Draw changed;
  REQUIRE(CALL(h, DrawInspections, req, &changed).ok());
  CHECK(changed.candidate_snapshot_hash() != draw.candidate_snapshot_hash());
  CHECK(changed.result_hash() != draw.result_hash());

  SECTION("a draw recorded before zstd (text snapshot) still verifies") {
    h.SetCandidateSnapshot(draw.draw_id(), h.CandidateSnapshot(draw.draw_id()), /*as_text=*/true);
    v1::VerifyDrawResponse legacy;
    REQUIRE(CALL(h, VerifyDraw, verify, &legacy).ok());
    CHECK(legacy.matches());
    CHECK(legacy.candidate_snapshot_matches());
  }

  SECTION("a tampered snapshot fails verification and says why") {
    std::string text = h.CandidateSnapshot(draw.draw_id());
    const size_t at = text.find(MakeUscc(2));
    REQUIRE(at != std::string::npos);
    text.replace(at, MakeUscc(2).size(), MakeUscc(99));
    h.SetCandidateSnapshot(draw.draw_id(), text, /*as_text=*/false);
    v1::VerifyDrawResponse tampered;
    REQUIRE(CALL(h, VerifyDraw, verify, &tampered).ok());
    CHECK_FALSE(tampered.matches());
    CHECK_FALSE(tampered.candidate_snapshot_matches());
  }
}

TEST_CASE("red-list cap and 一事不再查 exclude enterprises from a draw; credit tiers from the listing cache are declared") {
  Harness h;
  SeedDirectory(h, 4, 4);
  // Enterprise 1 inspected this year on WHP-01 (一事不再查); enterprise 2 on GEN-02 and red-listed.
  for (auto [n, item] : {std::pair{1, "WHP-01"}, std::pair{2, "GEN-02"}}) {
    const v1::StartInspectionRequest start = Start(n, v1::INSPECTION_ORIGIN_PLAN, item);
    v1::Inspection insp;
    REQUIRE(CALL(h, StartInspection, start, &insp).ok());
  }
  regsuite::events::v1::ListingChanged listing;
  listing.set_listing_id("L-1");
  listing.set_uscc(MakeUscc(2));
  listing.set_list_type(regsuite::events::v1::LIST_TYPE_RED);
  listing.set_change(regsuite::events::v1::LISTING_CHANGE_PUBLISHED);
  auto outbox = regsuite::common::MakeEnvelopeEvent(
      "credit", regsuite::common::DeliverEventMethod("inspection"), "listing", "L-1",
      "credit.listing_changed", listing, absl::Now());
  regsuite::events::v1::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(outbox.payload));
  regsuite::events::v1::EventAck ack;
  REQUIRE(CALL(h, DeliverEvent, envelope, &ack).ok());

  v1::DrawInspectionsRequest req;
  req.set_check_item_code("WHP-01");
  req.set_ratio(1.0);
  req.set_seed(1);
  v1::Draw draw;
  REQUIRE(CALL(h, DrawInspections, req, &draw).ok());
  CHECK(draw.candidate_count() == 2);
  std::map<std::string, v1::DrawExclusion> excluded;
  for (const auto& x : draw.excluded()) excluded[x.uscc()] = x.reason();
  CHECK(excluded[MakeUscc(1)] == v1::DRAW_EXCLUSION_SAME_ITEM_THIS_YEAR);
  CHECK(excluded[MakeUscc(2)] == v1::DRAW_EXCLUSION_RED_LIST_QUOTA_USED);
  CHECK(draw.credit_check().find("listing_cache") == 0);
  CHECK(draw.credit_check().find("gateway not configured") != std::string::npos);

  SECTION("一事不再查 refuses a second routine inspection of the same item; a complaint is exempt") {
    v1::StartInspectionRequest start;
    start.set_origin(v1::INSPECTION_ORIGIN_PLAN);
    start.set_uscc(MakeUscc(1));
    start.add_check_item_codes("WHP-01");
    start.add_inspector_ids("I001");
    start.add_inspector_ids("I003");
    start.set_planned_date("2026-11-24");
    start.set_started_by("科长");
    v1::Inspection insp;
    grpc::Status s = CALL(h, StartInspection, start, &insp);
    CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(s.error_message().find("一事不再查") != std::string::npos);

    v1::FileComplaintRequest complaint;
    complaint.set_uscc(MakeUscc(1));
    complaint.set_description("夜间违规储存危化品");
    complaint.set_channel(v1::COMPLAINT_CHANNEL_HOTLINE);
    complaint.mutable_complainant()->set_anonymous(true);
    v1::Complaint filed;
    REQUIRE(CALL(h, FileComplaint, complaint, &filed).ok());
    start.set_origin(v1::INSPECTION_ORIGIN_COMPLAINT);
    start.set_origin_ref(filed.complaint_id());
    start.set_planned_date("2026-12-01");  // a quiet day: complaints are exempt too
    REQUIRE(CALL(h, StartInspection, start, &insp).ok());
  }
  SECTION("宁静日 refuses a routine inspection on the 5th; an inspector with a conflict is refused") {
    v1::StartInspectionRequest start;
    start.set_origin(v1::INSPECTION_ORIGIN_PLAN);
    start.set_uscc(MakeUscc(3));
    start.add_check_item_codes("WHP-01");
    start.add_inspector_ids("I001");
    start.add_inspector_ids("I002");
    start.set_planned_date("2026-12-05");
    start.set_started_by("科长");
    v1::Inspection insp;
    CHECK(CALL(h, StartInspection, start, &insp).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    start.set_uscc(MakeUscc(1));
    start.clear_inspector_ids();
    start.add_inspector_ids("I000");
    start.add_inspector_ids("I002");
    start.set_planned_date("2026-12-21");
    start.set_origin(v1::INSPECTION_ORIGIN_CASE);
    start.set_origin_ref("case-1");
    grpc::Status s = CALL(h, StartInspection, start, &insp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("回避") != std::string::npos);
  }
}

TEST_CASE("inspection flow: draw → four steps → hazards → close publishes; overdue major hazard goes to credit") {
  Harness h;
  SeedDirectory(h, 10, 6);
  v1::DrawInspectionsRequest req;
  req.set_check_item_code("WHP-01");
  req.set_count(2);
  req.set_seed(5);
  v1::Draw draw;
  REQUIRE(CALL(h, DrawInspections, req, &draw).ok());
  REQUIRE(draw.enterprises_size() == 2);

  v1::StartInspectionRequest start;
  start.set_origin(v1::INSPECTION_ORIGIN_DRAW);
  start.set_origin_ref(draw.draw_id());
  start.set_uscc(draw.enterprises(0).uscc());
  start.set_started_by("科长");
  start.set_planned_date("2026-11-23");
  start.set_idempotency_key("start-1");
  v1::Inspection insp;
  REQUIRE(CALL(h, StartInspection, start, &insp).ok());
  CHECK(insp.step() == v1::INSPECTION_STEP_LAUNCH);
  CHECK(insp.inspector_ids_size() == 2);
  CHECK(insp.check_item_codes(0) == "WHP-01");
  v1::Inspection same;
  REQUIRE(CALL(h, StartInspection, start, &same).ok());
  CHECK(same.inspection_id() == insp.inspection_id());

  v1::RecordFindingsRequest skip;
  skip.set_inspection_id(insp.inspection_id());
  skip.set_step(v1::INSPECTION_STEP_CHECK);
  CHECK(CALL(h, RecordFindings, skip, &insp).error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  v1::RecordFindingsRequest check;
  check.set_inspection_id(insp.inspection_id());
  check.set_step(v1::INSPECTION_STEP_CHECK);
  *check.add_record_entries() = Entry(v1::INSPECTION_STEP_LAUNCH, "出示执法证件并告知");
  auto* finding = check.add_findings();
  finding->set_check_item_code("WHP-01");
  finding->set_compliant(false);
  finding->set_violation_code("AQ-102");
  finding->set_description("储罐区可燃气体报警仪失效");
  auto* major = check.add_hazards();
  major->set_level(v1::HAZARD_LEVEL_MAJOR);
  major->set_description("报警仪失效");
  major->set_rectification_working_days(5);
  auto* general = check.add_hazards();
  general->set_level(v1::HAZARD_LEVEL_GENERAL);
  general->set_description("消防通道堆放杂物");
  REQUIRE(CALL(h, RecordFindings, check, &insp).ok());
  CHECK(insp.step() == v1::INSPECTION_STEP_CHECK);
  REQUIRE(insp.hazards_size() == 2);
  // 5 WD after Monday 2026-11-23 is Monday 2026-11-30.
  CHECK(insp.hazards(0).rectification_deadline() == "2026-11-30");
  CHECK(insp.hazards(1).rectification_deadline() == "2026-12-07");

  v1::RecordFindingsRequest deliberate;
  deliberate.set_inspection_id(insp.inspection_id());
  deliberate.set_step(v1::INSPECTION_STEP_DELIBERATION);
  deliberate.set_etag(insp.etag());
  REQUIRE(CALL(h, RecordFindings, deliberate, &insp).ok());
  v1::RecordFindingsRequest feedback;
  feedback.set_inspection_id(insp.inspection_id());
  feedback.set_step(v1::INSPECTION_STEP_FEEDBACK);
  CHECK(CALL(h, RecordFindings, feedback, &insp).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  *feedback.add_record_entries() = Entry(v1::INSPECTION_STEP_DELIBERATION, "合议记录");
  REQUIRE(CALL(h, RecordFindings, feedback, &insp).ok());
  CHECK(insp.step() == v1::INSPECTION_STEP_FEEDBACK);

  v1::CloseInspectionRequest close;
  close.set_inspection_id(insp.inspection_id());
  close.set_result(v1::INSPECTION_RESULT_NO_ISSUES);
  close.set_conclusion("发现隐患2处，责令限期整改");
  close.set_closed_by("科长");
  *close.add_record_entries() = Entry(v1::INSPECTION_STEP_FEEDBACK, "反馈意见书签收");
  CHECK(CALL(h, CloseInspection, close, &insp).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  close.set_result(v1::INSPECTION_RESULT_HAZARDS_FOUND);
  REQUIRE(CALL(h, CloseInspection, close, &insp).ok());
  CHECK(insp.status() == v1::INSPECTION_STATUS_CLOSED);
  CHECK(insp.record_entries_size() == 3);
  // 20 WD after 2026-11-23.
  CHECK(insp.result_publication_due_date() == "2026-12-21");
  CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = 'inspection.result_published'") ==
        1);

  SECTION("the full-process record is append-only") {
    CHECK_THROWS(h.Exec("UPDATE record_entries SET description = 'x'"));
    CHECK_THROWS(h.Exec("DELETE FROM record_entries"));
  }
  SECTION("rectify and re-check a hazard; the overdue major hazard is reported to credit once") {
    const v1::Hazard& general_hazard =
        insp.hazards(0).level() == v1::HAZARD_LEVEL_GENERAL ? insp.hazards(0) : insp.hazards(1);
    REQUIRE(general_hazard.level() == v1::HAZARD_LEVEL_GENERAL);
    v1::RectifyHazardRequest rectify;
    rectify.set_hazard_id(general_hazard.hazard_id());
    rectify.set_measures("清理通道");
    rectify.set_reported_by("企业安全员");
    v1::Hazard hz;
    REQUIRE(CALL(h, RectifyHazard, rectify, &hz).ok());
    CHECK(hz.status() == v1::HAZARD_STATUS_RECTIFIED);
    v1::VerifyHazardRequest verify;
    verify.set_hazard_id(hz.hazard_id());
    verify.set_passed(true);
    verify.set_verified_by("I001");
    REQUIRE(CALL(h, VerifyHazard, verify, &hz).ok());
    CHECK(hz.status() == v1::HAZARD_STATUS_VERIFIED);
    CHECK(CALL(h, VerifyHazard, verify, &hz).error_code() == grpc::StatusCode::FAILED_PRECONDITION);

    CHECK(*h.service().SweepOverdueMajorHazards() == 0);
    h.clock().Advance(absl::Hours(24 * 8));  // 2026-12-01: past the 2026-11-30 deadline
    v1::ListHazardsRequest overdue;
    overdue.set_overdue_only(true);
    v1::ListHazardsResponse list;
    REQUIRE(CALL(h, ListHazards, overdue, &list).ok());
    REQUIRE(list.hazards_size() == 1);
    CHECK(list.hazards(0).level() == v1::HAZARD_LEVEL_MAJOR);
    CHECK(*h.service().SweepOverdueMajorHazards() == 1);
    CHECK(*h.service().SweepOverdueMajorHazards() == 0);
    CHECK(h.Count("SELECT count(*) FROM outbox WHERE target_method = "
                  "'/regsuite.credit.v1.CreditService/RecordCreditEvent'") == 1);

    v1::GetStatsRequest stats_req;
    stats_req.set_year(2026);
    v1::InspectionStats stats;
    REQUIRE(CALL(h, GetStats, stats_req, &stats).ok());
    CHECK(stats.total().inspections() == 1);
    CHECK(stats.total().hazards_found() == 2);
    CHECK(stats.total().major_hazards_found() == 1);
    CHECK(stats.total().hazards_rectified() == 1);
    CHECK(stats.total().rectification_rate_percent() == Approx(50.0));
    CHECK(stats.total().draws() == 1);
    REQUIRE(stats.by_industry_size() == 1);
    CHECK(stats.by_industry(0).key() == "危险化学品");
  }
}

TEST_CASE("penalty flow: assess, propose with hearing and legal review, decide, pay late with the 3% fee") {
  Harness h;
  SeedDirectory(h, 3, 2);
  v1::AssessPenaltyRequest assess;
  assess.set_violation_code("AQ-97-3");
  assess.set_party_type(v1::PARTY_TYPE_LEGAL_PERSON);
  assess.set_circumstance(v1::CIRCUMSTANCE_GENERAL);
  assess.set_uscc(MakeUscc(1));
  assess.add_proposed_kinds(v1::PENALTY_KIND_FINE);
  assess.set_proposed_fine_fen(4'000'000);
  v1::PenaltyAssessment assessment;
  REQUIRE(CALL(h, AssessPenalty, assess, &assessment).ok());
  CHECK(assessment.outcome() == v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  CHECK(assessment.hearing_required());
  CHECK(assessment.legal_review_required());
  CHECK(assessment.proposed_fine_within_range());
  CHECK(assessment.rule_version() == "2021-09-01");

  v1::ProposePenaltyRequest propose;
  propose.mutable_party()->set_type(v1::PARTY_TYPE_LEGAL_PERSON);
  propose.mutable_party()->set_name("企业1");
  propose.mutable_party()->set_uscc(MakeUscc(1));
  propose.set_violation_code("AQ-97-3");
  propose.set_circumstance(v1::CIRCUMSTANCE_GENERAL);
  propose.set_facts("未按规定对从业人员进行安全生产教育和培训");
  propose.add_proposed_kinds(v1::PENALTY_KIND_FINE);
  propose.set_proposed_fine_fen(4'000'000);
  propose.set_filed_date("2026-11-02");
  v1::PenaltyCase pc;
  REQUIRE(CALL(h, ProposePenalty, propose, &pc).ok());
  CHECK(pc.status() == v1::PENALTY_CASE_STATUS_PROPOSED);
  CHECK(pc.decision_due_date() == "2027-01-31");
  CHECK(pc.hearing().offered());
  CHECK(pc.hearing().request_deadline() == "2026-11-09");
  CHECK(pc.legal_review().required());

  v1::DecidePenaltyRequest decide;
  decide.set_case_id(pc.case_id());
  decide.set_decision_no("应急罚〔2026〕1号");
  decide.add_kinds(v1::PENALTY_KIND_FINE);
  decide.set_fine_fen(4'000'000);
  decide.set_decided_by("局长");
  decide.set_decided_date("2026-11-05");
  grpc::Status early = CALL(h, DecidePenalty, decide, &pc);
  CHECK(early.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(early.error_message().find("legal review") != std::string::npos);

  v1::RecordLegalReviewRequest review;
  review.set_case_id(pc.case_id());
  review.set_passed(true);
  review.set_reviewer("法制科");
  REQUIRE(CALL(h, RecordLegalReview, review, &pc).ok());
  grpc::Status hearing_open = CALL(h, DecidePenalty, decide, &pc);
  CHECK(hearing_open.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(hearing_open.error_message().find("hearing") != std::string::npos);
  v1::RecordHearingRequest waive;
  waive.set_case_id(pc.case_id());
  waive.set_requested(false);
  REQUIRE(CALL(h, RecordHearing, waive, &pc).ok());

  decide.set_fine_fen(6'000'000);
  CHECK(CALL(h, DecidePenalty, decide, &pc).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  decide.set_fine_fen(4'000'000);
  REQUIRE(CALL(h, DecidePenalty, decide, &pc).ok());
  CHECK(pc.status() == v1::PENALTY_CASE_STATUS_DECIDED);
  CHECK(pc.payment().due_date() == "2026-11-20");
  CHECK_FALSE(pc.decision().simple_procedure());
  CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = 'inspection.penalty_decided'") == 2);

  v1::RecordPaymentRequest pay;
  pay.set_case_id(pc.case_id());
  pay.set_paid_fen(4'000'000);
  pay.set_paid_date("2026-11-22");  // 2 days late: 6 % = 240,000 fen
  REQUIRE(CALL(h, RecordPayment, pay, &pc).ok());
  CHECK(pc.payment().late_fee_fen() == 240'000);
  CHECK(pc.status() == v1::PENALTY_CASE_STATUS_DECIDED);
  pay.set_paid_fen(240'000);
  REQUIRE(CALL(h, RecordPayment, pay, &pc).ok());
  CHECK(pc.status() == v1::PENALTY_CASE_STATUS_PAID);

  SECTION("a second case against the same party is not a first violation; a simple-procedure decision goes to credit only") {
    v1::ProposePenaltyRequest small = propose;
    small.set_circumstance(v1::CIRCUMSTANCE_MINOR);
    small.set_proposed_fine_fen(200'000);
    small.set_corrected(true);
    small.set_harm_caused(true);
    v1::PenaltyCase pc2;
    REQUIRE(CALL(h, ProposePenalty, small, &pc2).ok());
    CHECK_FALSE(pc2.assessment().first_violation());
    CHECK(pc2.assessment().outcome() == v1::PENALTY_OUTCOME_SIMPLE_PROCEDURE);
    v1::DecidePenaltyRequest d2;
    d2.set_case_id(pc2.case_id());
    d2.set_decision_no("应急罚〔2026〕2号");
    d2.add_kinds(v1::PENALTY_KIND_FINE);
    d2.set_fine_fen(200'000);
    d2.set_decided_by("科长");
    REQUIRE(CALL(h, DecidePenalty, d2, &pc2).ok());
    CHECK(pc2.decision().simple_procedure());
    CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = 'inspection.penalty_decided' "
                  "AND target_method LIKE '%Disclosure%'") == 1);
    CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = 'inspection.penalty_decided' "
                  "AND target_method LIKE '%Credit%'") == 2);
  }
  SECTION("a reused decision number is ALREADY_EXISTS") {
    v1::PenaltyCase pc3;
    propose.set_filed_date("2026-11-20");
    REQUIRE(CALL(h, ProposePenalty, propose, &pc3).ok());
    waive.set_case_id(pc3.case_id());
    REQUIRE(CALL(h, RecordHearing, waive, &pc3).ok());
    review.set_case_id(pc3.case_id());
    REQUIRE(CALL(h, RecordLegalReview, review, &pc3).ok());
    decide.set_case_id(pc3.case_id());
    decide.set_decided_date("2026-11-23");
    CHECK(CALL(h, DecidePenalty, decide, &pc3).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  }
  SECTION("a licence revocation orders the sanction from licensing") {
    v1::ProposePenaltyRequest severe = propose;
    severe.set_violation_code("AQ-99-2");
    severe.set_circumstance(v1::CIRCUMSTANCE_SEVERE);
    severe.clear_proposed_kinds();
    severe.add_proposed_kinds(v1::PENALTY_KIND_FINE);
    severe.add_proposed_kinds(v1::PENALTY_KIND_LICENCE_REVOCATION);
    severe.set_proposed_fine_fen(5'000'000);
    severe.set_filed_date("2026-11-01");
    v1::PenaltyCase pc4;
    REQUIRE(CALL(h, ProposePenalty, severe, &pc4).ok());
    review.set_case_id(pc4.case_id());
    REQUIRE(CALL(h, RecordLegalReview, review, &pc4).ok());
    v1::DecidePenaltyRequest d4;
    d4.set_case_id(pc4.case_id());
    d4.set_decision_no("应急罚〔2026〕4号");
    d4.add_kinds(v1::PENALTY_KIND_FINE);
    d4.add_kinds(v1::PENALTY_KIND_LICENCE_REVOCATION);
    d4.set_fine_fen(5'000'000);
    d4.set_decided_by("局长");
    d4.set_licence_certificate_no("（浙）WH安许证字〔2024〕000123");
    // Hearing deadline (5 WD after 2026-11-01 is 2026-11-06) has passed by today: decide.
    REQUIRE(CALL(h, DecidePenalty, d4, &pc4).ok());
    CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = "
                  "'inspection.licence_sanction_ordered'") == 1);
  }
}

TEST_CASE("monthly plan: published ≥ 15 days before the month, routine dates outside the quiet days") {
  Harness h;  // today is 2026-11-23
  SeedDirectory(h, 2, 2);
  v1::PublishMonthlyPlanRequest req;
  req.set_month("2027-01");
  req.set_region_code("330106");
  req.set_published_by("科长");
  auto* entry = req.add_entries();
  entry->set_uscc(MakeUscc(1));
  entry->set_check_item_code("WHP-01");
  entry->set_planned_date("2027-01-12");
  v1::MonthlyPlan plan;
  grpc::Status quiet = CALL(h, PublishMonthlyPlan, req, &plan);
  CHECK(quiet.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(quiet.error_message().find("宁静日") != std::string::npos);
  entry->set_planned_date("2027-01-21");
  REQUIRE(CALL(h, PublishMonthlyPlan, req, &plan).ok());
  CHECK(plan.publish_deadline() == "2026-12-17");
  CHECK(plan.entries(0).enterprise_name() == "企业1");
  CHECK(h.Count("SELECT count(*) FROM outbox WHERE event_type = "
                "'inspection.monthly_plan_published'") == 1);
  req.set_month("2026-12");  // deadline 2026-11-16 has passed
  entry->set_planned_date("2026-12-21");
  CHECK(CALL(h, PublishMonthlyPlan, req, &plan).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}
