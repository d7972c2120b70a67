#include "annual_report.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "regsuite/common/dates.h"

namespace regsuite::disclosure {
namespace {

struct RowSpec {
  const char* key;
  const char* label;
  v1::ReplyType type;  // for outcome rows
  int reason;          // 0: any reason (or none)
};

// Template order of section 三.
const std::vector<RowSpec>& RowSpecs() {
  static const std::vector<RowSpec> kRows = {
      {"new_this_year", "一、本年新收政府信息公开申请数量", v1::REPLY_TYPE_UNSPECIFIED, 0},
      {"carried_over", "二、上年结转政府信息公开申请数量", v1::REPLY_TYPE_UNSPECIFIED, 0},
      {"disclosed", "三、本年度办理结果 （一）予以公开", v1::REPLY_TYPE_DISCLOSED, 0},
      {"partially_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
       v1::REPLY_TYPE_PARTIALLY_DISCLOSED, 0},
      {"refused.state_secret", "（三）不予公开 1.属于国家秘密", v1::REPLY_TYPE_REFUSED, 1},
      {"refused.prohibited_by_law", "（三）不予公开 2.其他法律行政法规禁止公开",
       v1::REPLY_TYPE_REFUSED, 2},
      {"refused.endangers_security_or_stability", "（三）不予公开 3.危及“三安全一稳定”",
       v1::REPLY_TYPE_REFUSED, 3},
      {"refused.third_party_rights", "（三）不予公开 4.保护第三方合法权益", v1::REPLY_TYPE_REFUSED,
       4},
      {"refused.internal_affairs", "（三）不予公开 5.属于三类内部事务信息", v1::REPLY_TYPE_REFUSED,
       5},
      {"refused.process_information", "（三）不予公开 6.属于四类过程性信息", v1::REPLY_TYPE_REFUSED,
       6},
      {"refused.enforcement_case_file", "（三）不予公开 7.属于行政执法案卷", v1::REPLY_TYPE_REFUSED,
       7},
      {"refused.administrative_query", "（三）不予公开 8.属于行政查询事项", v1::REPLY_TYPE_REFUSED,
       8},
      {"unavailable.not_held", "（四）无法提供 1.本机关不掌握相关政府信息",
       v1::REPLY_TYPE_UNABLE_TO_PROVIDE, 1},
      {"unavailable.would_require_creation", "（四）无法提供 2.没有现成信息需要另行制作",
       v1::REPLY_TYPE_UNABLE_TO_PROVIDE, 2},
      {"unavailable.unclear_after_correction", "（四）无法提供 3.补正后申请内容仍不明确",
       v1::REPLY_TYPE_UNABLE_TO_PROVIDE, 3},
      {"not_processed.petition_or_complaint", "（五）不予处理 1.信访举报投诉类申请",
       v1::REPLY_TYPE_NOT_PROCESSED, 1},
      {"not_processed.repeated_request", "（五）不予处理 2.重复申请", v1::REPLY_TYPE_NOT_PROCESSED,
       2},
      {"not_processed.published_material", "（五）不予处理 3.要求提供公开出版物",
       v1::REPLY_TYPE_NOT_PROCESSED, 3},
      {"not_processed.excessive_requests", "（五）不予处理 4.无正当理由大量反复申请",
       v1::REPLY_TYPE_NOT_PROCESSED, 4},
      {"not_processed.confirmation_of_held_information",
       "（五）不予处理 5.要求行政机关确认或重新出具已获取信息", v1::REPLY_TYPE_NOT_PROCESSED, 5},
      {"other.correction_not_supplied",
       "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
       v1::REPLY_TYPE_OTHER_HANDLING, 1},
      {"other.fee_not_paid",
       "（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
       v1::REPLY_TYPE_OTHER_HANDLING, 2},
      {"other.other", "（六）其他处理 3.其他", v1::REPLY_TYPE_OTHER_HANDLING, 3},
      {"total", "（七）总计", v1::REPLY_TYPE_UNSPECIFIED, 0},
      {"carried_forward", "四、结转下年度继续办理", v1::REPLY_TYPE_UNSPECIFIED, 0},
  };
  return kRows;
}

void Add(v1::ApplicantTypeCounts& c, v1::ApplicantType type) {
  switch (type) {
    case v1::APPLICANT_TYPE_NATURAL_PERSON:
      c.set_natural_person(c.natural_person() + 1);
      break;
    case v1::APPLICANT_TYPE_BUSINESS:
      c.set_business(c.business() + 1);
      break;
    case v1::APPLICANT_TYPE_RESEARCH:
      c.set_research(c.research() + 1);
      break;
    case v1::APPLICANT_TYPE_PUBLIC_INTEREST:
      c.set_public_interest(c.public_interest() + 1);
      break;
    case v1::APPLICANT_TYPE_LEGAL_SERVICES:
      c.set_legal_services(c.legal_services() + 1);
      break;
    default:
      c.set_other(c.other() + 1);
      break;
  }
  c.set_total(c.total() + 1);
}

void AddAppeal(v1::AppealCounts& c, v1::AppealOutcome outcome) {
  switch (outcome) {
    case v1::APPEAL_OUTCOME_UPHELD:
      c.set_upheld(c.upheld() + 1);
      break;
    case v1::APPEAL_OUTCOME_CORRECTED:
      c.set_corrected(c.corrected() + 1);
      break;
    case v1::APPEAL_OUTCOME_OTHER:
      c.set_other(c.other() + 1);
      break;
    default:
      c.set_pending(c.pending() + 1);
      break;
  }
  c.set_total(c.total() + 1);
}

std::string CountsCells(const v1::ApplicantTypeCounts& c) {
  int64_t legal =
      c.business() + c.research() + c.public_interest() + c.legal_services() + c.other();
  return absl::StrFormat("%d | %d | %d | %d | %d | %d | %d | %d", c.natural_person(), c.business(),
                         c.research(), c.public_interest(), c.legal_services(), c.other(), legal,
                         c.total());
}

std::string AppealCells(const v1::AppealCounts& c) {
  return absl::StrFormat("%d | %d | %d | %d | %d", c.upheld(), c.corrected(), c.other(),
                         c.pending(), c.total());
}

std::string Yuan(int64_t fen) { return absl::StrFormat("%d.%02d", fen / 100, fen % 100); }

}  // namespace

v1::RequestSection BuildRequestSection(const std::vector<RequestFact>& requests, int year) {
  const absl::CivilDay first(year, 1, 1);
  const absl::CivilDay last(year, 12, 31);
  std::map<std::string, v1::ApplicantTypeCounts> counts;
  for (const RequestFact& r : requests) {
    if (r.received > last) continue;
    bool answered_before_year = r.replied && *r.replied < first;
    if (answered_before_year) continue;
    if (r.received >= first) {
      Add(counts["new_this_year"], r.applicant_type);
    } else {
      Add(counts["carried_over"], r.applicant_type);
    }
    if (r.replied && *r.replied <= last) {
      for (const RowSpec& row : RowSpecs()) {
        if (row.type != r.reply_type || row.type == v1::REPLY_TYPE_UNSPECIFIED) continue;
        if (row.reason != 0 && row.reason != r.reason) continue;
        Add(counts[row.key], r.applicant_type);
        break;
      }
      Add(counts["total"], r.applicant_type);
    } else {
      Add(counts["carried_forward"], r.applicant_type);
    }
  }
  v1::RequestSection section;
  for (const RowSpec& row : RowSpecs()) {
    auto* out = section.add_rows();
    out->set_key(row.key);
    out->set_label(row.label);
    *out->mutable_counts() = counts[row.key];
  }
  return section;
}

v1::DocumentCounts CountDocuments(const std::vector<DocumentFact>& documents, v1::DocumentKind kind,
                                  int year) {
  const absl::CivilDay first(year, 1, 1);
  const absl::CivilDay last(year, 12, 31);
  v1::DocumentCounts c;
  for (const DocumentFact& d : documents) {
    if (d.kind != kind) continue;
    if (d.issued >= first && d.issued <= last) c.set_issued(c.issued() + 1);
    if (d.repealed && *d.repealed >= first && *d.repealed <= last) c.set_repealed(c.repealed() + 1);
    if (d.issued <= last && (!d.repealed || *d.repealed > last)) c.set_in_force(c.in_force() + 1);
  }
  return c;
}

v1::AppealSection BuildAppealSection(const std::vector<v1::Appeal>& appeals, int year) {
  const std::string first = common::FormatDate(absl::CivilDay(year, 1, 1));
  const std::string last = common::FormatDate(absl::CivilDay(year, 12, 31));
  v1::AppealSection s;
  for (const v1::Appeal& a : appeals) {
    if (a.filed_date() < first || a.filed_date() > last) continue;
    v1::AppealOutcome outcome = a.outcome();
    if (!a.concluded_date().empty() && a.concluded_date() > last)
      outcome = v1::APPEAL_OUTCOME_PENDING;
    switch (a.kind()) {
      case v1::APPEAL_KIND_RECONSIDERATION:
        AddAppeal(*s.mutable_reconsideration(), outcome);
        break;
      case v1::APPEAL_KIND_LITIGATION_DIRECT:
        AddAppeal(*s.mutable_litigation_direct(), outcome);
        break;
      case v1::APPEAL_KIND_LITIGATION_AFTER_RECONSIDERATION:
        AddAppeal(*s.mutable_litigation_after_reconsideration(), outcome);
        break;
      default:
        break;
    }
  }
  return s;
}

std::string RenderAnnualReportMarkdown(const v1::AnnualReport& r) {
  std::string md = absl::StrCat("# ", r.agency_name(), r.year(), "年政府信息公开工作年度报告\n\n");
  absl::StrAppend(&md, "## 一、总体情况\n\n", r.overview().empty() ? "（待填写）" : r.overview(),
                  "\n\n");
  const auto& p = r.proactive_disclosure();
  absl::StrAppend(&md, "## 二、主动公开政府信息情况\n\n",
                  "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n");
  absl::StrAppend(&md, absl::StrFormat("| 规章 | %d | %d | %d |\n", p.rules().issued(),
                                       p.rules().repealed(), p.rules().in_force()));
  absl::StrAppend(
      &md,
      absl::StrFormat("| 行政规范性文件 | %d | %d | %d |\n\n", p.normative_documents().issued(),
                      p.normative_documents().repealed(), p.normative_documents().in_force()));
  absl::StrAppend(
      &md, "| 信息内容 | 本年处理决定数量 |\n|---|---|\n",
      absl::StrFormat("| 行政许可 | %d |\n| 行政处罚 | %d |\n| 行政强制 | %d |\n\n",
                      p.licensing_decisions(), p.penalty_decisions(), p.enforcement_decisions()),
      "| 信息内容 | 本年收费金额（元） |\n|---|---|\n",
      absl::StrFormat("| 行政事业性收费 | %s |\n\n", Yuan(p.fees_fen())));
  absl::StrAppend(
      &md, "## 三、收到和处理政府信息公开申请情况\n\n",
      "| （本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 自然人 | "
      "商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 法人或其他组织小计 | "
      "总计 |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& row : r.requests().rows()) {
    absl::StrAppend(&md, "| ", row.label(), " | ", CountsCells(row.counts()), " |\n");
  }
  absl::StrAppend(
      &md, "\n## 四、政府信息公开行政复议、行政诉讼情况\n\n",
      "| 类别 | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n|---|---|---|---|---|---|\n",
      "| 行政复议 | ", AppealCells(r.appeals().reconsideration()), " |\n",
      "| 行政诉讼（未经复议直接起诉） | ", AppealCells(r.appeals().litigation_direct()), " |\n",
      "| 行政诉讼（复议后起诉） | ", AppealCells(r.appeals().litigation_after_reconsideration()),
      " |\n\n");
  absl::StrAppend(
      &md, "## 五、存在的主要问题及改进情况\n\n",
      r.problems_and_improvements().empty() ? "（待填写）" : r.problems_and_improvements(), "\n\n");
  absl::StrAppend(
      &md, "## 六、其他需要报告的事项\n\n",
      r.other_matters().empty() ? "" : absl::StrCat(r.other_matters(), "\n\n"),
      "依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号），本年度收取信息处理费 ",
      Yuan(r.request_fees_fen()), " 元。\n");
  return md;
}

}  // namespace regsuite::disclosure
