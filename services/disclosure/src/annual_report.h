#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"

namespace regsuite::disclosure {

/// What the report needs of one information request.
struct RequestFact {
  v1::ApplicantType applicant_type = v1::APPLICANT_TYPE_OTHER;
  absl::CivilDay received;
  std::optional<absl::CivilDay> replied;  // empty while unanswered
  v1::ReplyType reply_type = v1::REPLY_TYPE_UNSPECIFIED;
  int reason = 0;  // the enum value of the reason field matching reply_type
};

/// What the report needs of one rule / normative document.
struct DocumentFact {
  v1::DocumentKind kind = v1::DOCUMENT_KIND_OTHER;
  absl::CivilDay issued;
  std::optional<absl::CivilDay> repealed;
};

/// Section 三 (国办公开办函〔2021〕30号 table): new this year, carried over from the previous
/// year (received before 1 January, unanswered on that day), each outcome of requests answered
/// during the year, total, and carried forward (received by 31 December, unanswered then).
/// Columns: natural person; legal person by sub-type; total. new + carried_over ==
/// total + carried_forward, per column.
v1::RequestSection BuildRequestSection(const std::vector<RequestFact>& requests, int year);

/// Section 二 document counts: issued in the year, repealed in the year, in force on 31 Dec.
v1::DocumentCounts CountDocuments(const std::vector<DocumentFact>& documents, v1::DocumentKind kind,
                                  int year);

/// Section 四: appeals filed in the year by kind and outcome; an outcome concluded after the
/// year counts as pending.
v1::AppealSection BuildAppealSection(const std::vector<v1::Appeal>& appeals, int year);

/// The whole report as Markdown in the template's layout.
std::string RenderAnnualReportMarkdown(const v1::AnnualReport& report);

}  // namespace regsuite::disclosure
