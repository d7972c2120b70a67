// 双随机 draws: candidate and inspector snapshots, the recorded algorithm, verification.
#include <time.h>

#include <algorithm>
#include <array>
#include <future>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "inspection_service.h"
#include "regsuite/common/check.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/log.h"
#include "regsuite/common/random.h"
#include "regsuite/common/status.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "store_util.h"

namespace regsuite::inspection {
namespace {

constexpr char kBatchCheckSubjects[] = "/regsuite.credit.v1.CreditService/BatchCheckSubjects";
constexpr int kCreditBatchMax = 1000;

constexpr char kSelectCheckItem[] =
    "SELECT name, array_to_string(industries, E'\\x1f'), safety_critical FROM check_items "
    "WHERE code = $1";
constexpr char kSelectDrawByKey[] = "SELECT draw FROM draws WHERE idempotency_key = $1";
// The candidate pool is read in two halves of the table (block ranges, a TID range scan each)
// on two connections at once, in one exported snapshot: reading and decoding a province-wide
// pool of a million rows is a draw's longest step, and two halves use two cores.
#define RS_SELECT_CANDIDATES                                                      \
  "SELECT uscc, region_code, industry, operating_status, name FROM enterprises " \
  "WHERE ($1::text = '' OR region_code LIKE $1::text || '%') "                   \
  "AND ($2::text = '' OR industry = $2) "                                        \
  "AND (cardinality($3::text[]) = 0 OR industry = ANY($3::text[])) "             \
  "AND (cardinality($4::int[]) = 0 OR risk_level = ANY($4::int[])) "             \
  "AND tags @> $5::text[] "
constexpr char kSelectCandidatesBelow[] = RS_SELECT_CANDIDATES "AND ctid < $6::tid";
constexpr char kSelectCandidatesFrom[] = RS_SELECT_CANDIDATES "AND ctid >= $6::tid";
#undef RS_SELECT_CANDIDATES
// The table's current size in blocks (pg_class.relpages lags until VACUUM/ANALYZE: 0 right
// after a bulk import).
constexpr char kSelectTableBlocks[] =
    "SELECT pg_relation_size('enterprises') / current_setting('block_size')::bigint";
constexpr char kExportSnapshot[] = "SELECT pg_export_snapshot()";
// Per enterprise this year: inspections counted against the red-list cap, whether the
// drawn check item was already inspected on a routine origin (一事不再查; complaint 3 and
// case 4 do not count), and whether a joint inspection (any origin) covered it (联合检查).
// Cancelled (3) inspections do not count.
constexpr char kSelectThisYear[] = R"SQL(
SELECT uscc, count(*)::int,
       bool_or($2 = ANY(check_item_codes) AND origin NOT IN (3, 4)),
       bool_or(joint AND $2 = ANY(check_item_codes))
FROM inspections WHERE year = $1 AND status <> 3 GROUP BY uscc
)SQL";
constexpr char kSelectLastInspectors[] = R"SQL(
SELECT DISTINCT ON (uscc) uscc, array_to_string(inspector_ids, E'\x1f') FROM inspections
WHERE status <> 3 ORDER BY uscc, started_at DESC
)SQL";
constexpr char kSelectEligibleInspectors[] = R"SQL(
SELECT inspector_id, certificate_no, region_code, array_to_string(industries, E'\x1f'),
       array_to_string(conflict_usccs, E'\x1f'), name
FROM inspectors WHERE active AND certificate_expiry >= $1::date
)SQL";
constexpr char kInsertDraw[] = R"SQL(
INSERT INTO draws (draw_id, idempotency_key, check_item_code, seed, draw_date,
  candidate_snapshot_zstd, inspector_snapshot_zstd, draw, drawn_at)
VALUES ($1, NULLIF($2::text, ''), $3, $4::numeric, $5::date, $6, $7, $8, to_timestamp($9))
)SQL";
// Snapshots: zstd since migration 0004, text before (exactly one of each pair is set).
constexpr char kSelectDraw[] = R"SQL(
SELECT draw, candidate_snapshot, inspector_snapshot, candidate_snapshot_zstd,
       inspector_snapshot_zstd
FROM draws WHERE draw_id = $1
)SQL";
constexpr char kSelectListingCache[] = R"SQL(
SELECT uscc, max(list_type) FROM credit_listing_cache
WHERE active AND uscc = ANY($1::text[]) GROUP BY uscc
)SQL";

constexpr int kTierRed = 1;    // regsuite.credit.v1.CREDIT_TIER_RED
constexpr int kTierBlack = 4;  // regsuite.credit.v1.CREDIT_TIER_BLACK

using UsccKey = std::array<uint64_t, 3>;

// A candidate as read: views into the query result, which outlives the draw's computation
// (a province-wide pool is a million rows: no copies).
struct PoolRow {
  absl::string_view uscc, region, industry, name;
  bool operating;
  UsccKey key;  // KeyOf(uscc)
};

absl::string_view ViewOf(const pqxx::field& field) { return {field.c_str(), field.size()}; }

// Big-endian bytes [from, from + 8) of `text`, zero-padded: integers that order as the bytes do.
uint64_t BigEndianWord(absl::string_view text, size_t from) {
  uint64_t word = 0;
  for (size_t i = from; i < from + 8; ++i) {
    word = (word << 8) | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
  }
  return word;
}

// The first 24 bytes of a USCC (18 characters) as three integers in byte order: a million
// keys sort and merge several times faster than by string comparison.
UsccKey KeyOf(absl::string_view uscc) {
  return {BigEndianWord(uscc, 0), BigEndianWord(uscc, 8), BigEndianWord(uscc, 16)};
}

// Byte order of the USCCs; the strings decide only between equal keys (longer codes).
bool UsccLess(const PoolRow& a, const PoolRow& b) {
  return a.key != b.key ? a.key < b.key : a.uscc < b.uscc;
}

void SortByUscc(std::vector<PoolRow>& rows) {
  // Sorting small (key, position) pairs and moving each row once beats sorting the rows.
  struct Entry {
    UsccKey key;
    uint32_t index;
  };
  std::vector<Entry> entries(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) entries[i] = {rows[i].key, static_cast<uint32_t>(i)};
  std::sort(entries.begin(), entries.end(), [&rows](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : rows[a.index].uscc < rows[b.index].uscc;
  });
  std::vector<PoolRow> sorted;
  sorted.reserve(rows.size());
  for (const Entry& entry : entries) sorted.push_back(rows[entry.index]);
  rows = std::move(sorted);
}

// Wall time of a draw's phases, logged with it: where a province-wide draw spends its time.
// "phase=wall/cpu" in ms, cpu = this thread's CPU time (PostgreSQL's work shows as wall only).
class PhaseTimer {
 public:
  void Restart() {
    last_ = absl::Now();
    last_cpu_ = ThreadCpu();
    phases_.clear();
  }
  void Mark(absl::string_view phase) {
    const absl::Time now = absl::Now();
    const absl::Duration cpu = ThreadCpu();
    absl::StrAppend(&phases_, phases_.empty() ? "" : " ", phase, "=",
                    absl::ToInt64Milliseconds(now - last_), "/",
                    absl::ToInt64Milliseconds(cpu - last_cpu_));
    last_ = now;
    last_cpu_ = cpu;
  }
  const std::string& Summary() const { return phases_; }

 private:
  static absl::Duration ThreadCpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return absl::DurationFromTimespec(ts);
  }
  absl::Time last_ = absl::Now();
  absl::Duration last_cpu_ = ThreadCpu();
  std::string phases_;
};

// Points the candidates' views into their canonical snapshot text (same order and fields):
// the draw then reads one contiguous text in order instead of chasing a million pointers
// into the query result.
void PointInto(absl::string_view text, std::vector<DrawCandidate>& candidates) {
  size_t at = 0;
  auto take = [&](absl::string_view field) {
    const absl::string_view moved = text.substr(at, field.size());
    at += field.size() + 1;  // and the separator after it
    return moved;
  };
  for (DrawCandidate& c : candidates) {
    c.uscc = take(c.uscc);
    c.region_code = take(c.region_code);
    c.industry = take(c.industry);
    for (absl::string_view& id : c.last_inspector_ids) id = take(id);
    if (c.last_inspector_ids.empty()) ++at;  // the line's end
  }
}

struct CandidateFilter {
  std::string region, industry, item_industries, risk_levels, tags;  // query parameters $1..$5
};

using SnapshotTxn =
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

// The candidates of one half: `sql` is kSelectCandidatesBelow or kSelectCandidatesFrom.
pqxx::result QueryHalf(SnapshotTxn& txn, const CandidateFilter& f, const char* sql,
                       const std::string& bound) {
  return txn.exec_params(sql, f.region, f.industry, f.item_industries, f.risk_levels, f.tags,
                         bound);
}

// One half of the pool, in the snapshot `snapshot` (pg_export_snapshot of the other half).
pqxx::result ReadHalf(pqxx::connection& conn, const CandidateFilter& f, const char* sql,
                      const std::string& bound, const std::string& snapshot) {
  SnapshotTxn txn(conn);
  // SET TRANSACTION SNAPSHOT takes no parameter; the id is PostgreSQL's own (checked).
  RS_CHECK(std::all_of(snapshot.begin(), snapshot.end(),
                       [](char c) { return absl::ascii_isxdigit(c) || c == '-'; }));
  txn.exec(absl::StrCat("SET TRANSACTION SNAPSHOT '", snapshot, "'"));
  return QueryHalf(txn, f, sql, bound);
}

// The candidate pool (uscc, region, industry, status, name) in two parts read concurrently
// (see kSelectCandidatesBelow). The results own the text the pool's views point into.
absl::StatusOr<std::array<pqxx::result, 2>> ReadCandidatePool(common::PgPool& pg,
                                                              const CandidateFilter& f) {
  auto first = pg.Acquire();
  if (!first.ok()) return first.status();
  auto second = pg.Acquire();
  if (!second.ok()) return second.status();
  std::array<pqxx::result, 2> halves;
  try {
    SnapshotTxn txn(first->conn());
    const int64_t blocks = txn.exec1(kSelectTableBlocks)[0].as<int64_t>();
    const std::string bound = absl::StrCat("(", blocks / 2, ",0)");
    const std::string snapshot = txn.exec1(kExportSnapshot)[0].c_str();
    absl::Status other_status;
    std::thread other([&] {
      try {
        halves[1] = ReadHalf(second->conn(), f, kSelectCandidatesFrom, bound, snapshot);
      } catch (...) {
        other_status = common::StatusFromCurrentException("postgres");
      }
    });
    try {
      halves[0] = QueryHalf(txn, f, kSelectCandidatesBelow, bound);
    } catch (...) {
      other.join();
      throw;
    }
    other.join();  // the exporting transaction stays open until the import is done
    if (!other_status.ok()) return other_status;
  } catch (const pqxx::broken_connection&) {
    first->MarkBroken();
    second->MarkBroken();
    return common::StatusFromCurrentException("postgres");
  }
  return halves;
}

// One half's rows as a pool sorted by USCC.
std::vector<PoolRow> SortedPool(const pqxx::result& rows) {
  const std::string operating = absl::StrCat(v1::ENTERPRISE_STATUS_OPERATING);
  const std::string unspecified = absl::StrCat(v1::ENTERPRISE_STATUS_UNSPECIFIED);
  std::vector<PoolRow> pool;
  pool.reserve(rows.size());
  for (const auto& r : rows) {
    const absl::string_view status = ViewOf(r[3]);
    const absl::string_view uscc = ViewOf(r[0]);
    pool.push_back({uscc, ViewOf(r[1]), ViewOf(r[2]), ViewOf(r[4]),
                    status == operating || status == unspecified, KeyOf(uscc)});
  }
  SortByUscc(pool);
  return pool;
}

// The whole pool sorted by USCC: each half converted and sorted on its own core, then merged.
std::vector<PoolRow> PoolOf(const std::array<pqxx::result, 2>& halves) {
  auto second = std::async(std::launch::async, [&halves] { return SortedPool(halves[1]); });
  const std::vector<PoolRow> first = SortedPool(halves[0]);
  const std::vector<PoolRow> rest = second.get();
  std::vector<PoolRow> pool(first.size() + rest.size());
  std::merge(first.begin(), first.end(), rest.begin(), rest.end(), pool.begin(), UsccLess);
  return pool;
}

struct RecordedSnapshots {
  std::string candidate_hash, candidates_zstd, inspectors_zstd;
};

// inspection.draw_published for disclosure: what a third party needs to re-verify the draw.
common::OutboxEvent DrawPublishedEvent(const v1::Draw& draw, const std::string& item_name,
                                       const std::string& industry, const std::string& region,
                                       absl::Time now) {
  events::v1::DrawPublished published;
  published.set_draw_id(draw.draw_id());
  published.set_check_item_code(draw.check_item_code());
  published.set_check_item_name(item_name);
  published.set_industry(industry);
  published.set_region_code(region);
  *published.mutable_drawn_at() = draw.drawn_at();
  published.set_seed(draw.seed());
  published.set_algorithm(draw.algorithm());
  published.set_candidate_snapshot_hash(draw.candidate_snapshot_hash());
  published.set_inspector_snapshot_hash(draw.inspector_snapshot_hash());
  published.set_candidate_count(draw.candidate_count());
  for (const auto& e : draw.enterprises()) {
    auto* pe = published.add_enterprises();
    pe->set_uscc(e.uscc());
    pe->set_name(e.name());
    pe->set_team_index(e.team_index());
  }
  for (const auto& t : draw.teams()) {
    auto* pt = published.add_teams();
    pt->set_team_index(t.team_index());
    for (const auto& m : t.members()) {
      auto* pm = pt->add_members();
      pm->set_inspector_id(m.inspector_id());
      pm->set_name(m.name());
      pm->set_certificate_no(m.certificate_no());
    }
  }
  return common::MakeEnvelopeEvent("inspection", common::DeliverEventMethod("disclosure"), "draw",
                                   draw.draw_id(), "inspection.draw_published", published, now);
}

// A recorded snapshot: the text column (draws before migration 0004) or the zstd one.
absl::StatusOr<std::string> RecordedSnapshot(const pqxx::field& text, const pqxx::field& zstd) {
  if (!text.is_null()) return std::string(ViewOf(text));
  const pqxx::binarystring bytes(zstd);
  return DecompressSnapshot(absl::string_view(bytes.get(), bytes.size()));
}

DrawParameters ParamsOf(const v1::Draw& draw) {
  DrawParameters p;
  p.seed = draw.seed();
  if (draw.sample_size_case() == v1::Draw::kRatio) p.ratio = draw.ratio();
  if (draw.sample_size_case() == v1::Draw::kCount) p.count = draw.count();
  p.team_size = draw.team_size();
  return p;
}

}  // namespace

absl::StatusOr<CreditTierLookup> InspectionServiceImpl::LookUpCreditTiers(
    pqxx::work& txn, const std::vector<std::string>& usccs) {
  CreditTierLookup lookup;
  if (usccs.empty()) {
    lookup.source = "not needed";
    return lookup;
  }
  std::string unavailable = "gateway not configured";
  if (deps_.gateway != nullptr) {
    absl::Status failure;
    for (size_t start = 0; start < usccs.size() && failure.ok(); start += kCreditBatchMax) {
      credit::v1::BatchCheckSubjectsRequest batch;
      for (size_t i = start; i < std::min(usccs.size(), start + kCreditBatchMax); ++i) {
        batch.add_usccs(usccs[i]);
      }
      credit::v1::BatchCheckSubjectsResponse statuses;
      failure = deps_.gateway->Call(kBatchCheckSubjects, batch, &statuses);
      if (failure.ok()) {
        for (const auto& status : statuses.statuses()) {
          lookup.tiers[status.uscc()] = static_cast<int>(status.tier());
        }
      }
    }
    if (failure.ok()) {
      lookup.source = "gateway";
      return lookup;
    }
    unavailable = std::string(failure.message());
    lookup.tiers.clear();
  }
  // Fall back to the listings learnt from credit.listing_changed events, and say so.
  pqxx::result rows = txn.exec_params(kSelectListingCache, PgTextArray(usccs));
  for (const auto& row : rows) {
    const int list_type = row[1].as<int>();  // 1 red, 2 black
    lookup.tiers[row[0].c_str()] = list_type == 2 ? kTierBlack : kTierRed;
  }
  lookup.source = absl::StrCat("listing_cache (credit service unavailable: ", unavailable, ")");
  common::LogInfo("credit tiers from the listing cache", {{"reason", unavailable}});
  return lookup;
}

absl::Status InspectionServiceImpl::DoDrawInspections(const v1::DrawInspectionsRequest& request,
                                                      v1::Draw* response) {
  if (request.check_item_code().empty()) {
    return common::FieldError("check_item_code", "is required");
  }
  const int32_t team_size = request.team_size() == 0 ? 2 : request.team_size();
  if (team_size < 2) {
    return common::FieldError("team_size", "at least 2 inspectors per team (国办发〔2015〕58号)");
  }
  DrawParameters params;
  params.team_size = team_size;
  if (request.sample_size_case() == v1::DrawInspectionsRequest::kRatio) {
    params.ratio = request.ratio();
  } else if (request.sample_size_case() == v1::DrawInspectionsRequest::kCount) {
    params.count = request.count();
  }
  if (auto k = SampleSize(params, 0); !k.ok()) return k.status();
  const std::string& region = request.filter().region_code();
  if (region.size() > 6 || !std::all_of(region.begin(), region.end(), absl::ascii_isdigit)) {
    return common::FieldError("filter.region_code", "must be a prefix of a 6-digit region code");
  }
  params.seed = request.has_seed() ? request.seed() : common::RandomSource::FromOs().seed();
  const absl::Time now = deps_.clock.Now();
  const absl::CivilDay today = deps_.clock.Today();

  PhaseTimer timer;
  bool recorded_now = false;  // false when an idempotent retry answered with the earlier draw
  absl::Status done = deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    timer.Restart();
    recorded_now = false;
    if (!request.idempotency_key().empty()) {
      pqxx::result prior = txn.exec_params(kSelectDrawByKey, request.idempotency_key());
      if (!prior.empty()) return DecodeMessage(prior[0][0].c_str(), response);
    }
    pqxx::result item = txn.exec_params(kSelectCheckItem, request.check_item_code());
    if (item.empty()) {
      return common::FieldError("check_item_code",
                                absl::StrCat("'", request.check_item_code(), "' is not in the check-item list"));
    }
    const std::string item_name = item[0][0].c_str();
    const std::vector<std::string> item_industries = SplitUnitSeparated(item[0][1].c_str());

    std::vector<std::string> risk_levels;
    for (int level : request.filter().risk_levels()) risk_levels.push_back(absl::StrCat(level));
    const CandidateFilter filter{region, request.filter().industry(), PgTextArray(item_industries),
                                 PgTextArray(risk_levels), PgTextArray(request.filter().tags())};
    auto halves = ReadCandidatePool(deps_.pg, filter);
    if (!halves.ok()) return halves.status();
    timer.Mark("read_candidates");
    std::vector<PoolRow> pool = PoolOf(*halves);
    timer.Mark("sort");

    absl::flat_hash_map<std::string, EnterpriseFacts> facts;
    for (const auto& r : txn.exec_params(kSelectThisYear, static_cast<int>(today.year()),
                                         request.check_item_code())) {
      EnterpriseFacts& f = facts[r[0].c_str()];
      f.inspections_this_year = r[1].as<int>();
      f.same_item_this_year = !r[2].is_null() && r[2].as<bool>();
      f.joint_inspection_this_year = !r[3].is_null() && r[3].as<bool>();
    }
    // Credit tiers matter only for the red-list cap, i.e. for enterprises already inspected.
    std::vector<std::string> need_tier;
    for (const PoolRow& row : pool) {
      if (facts.empty()) break;
      auto it = facts.find(row.uscc);
      if (it != facts.end() &&
          it->second.inspections_this_year >= deps_.options.red_list_max_per_year) {
        need_tier.emplace_back(row.uscc);
      }
    }
    auto tiers = LookUpCreditTiers(txn, need_tier);
    if (!tiers.ok()) return tiers.status();

    timer.Mark("facts_tiers");
    absl::flat_hash_map<std::string, std::vector<std::string>> last_inspectors;
    for (const auto& r : txn.exec(kSelectLastInspectors)) {
      last_inspectors[r[0].c_str()] = SplitUnitSeparated(r[1].c_str());
    }

    v1::Draw draw;
    std::vector<DrawCandidate> candidates;
    candidates.reserve(pool.size());
    std::vector<absl::string_view> candidate_names;  // parallel to candidates
    candidate_names.reserve(pool.size());
    // A lookup in an empty map still hashes the key: skipped, as the maps are empty for most
    // of a large pool's enterprises (not inspected this year, no known tier).
    for (const PoolRow& row : pool) {
      EnterpriseFacts f;
      if (!facts.empty()) {
        if (auto it = facts.find(row.uscc); it != facts.end()) f = it->second;
      }
      f.operating = row.operating;
      if (!tiers->tiers.empty()) {
        auto tier = tiers->tiers.find(row.uscc);
        f.red_listed = tier != tiers->tiers.end() && tier->second == kTierRed;
      }
      if (auto exclusion = DrawExclusionFor(f, deps_.options.red_list_max_per_year)) {
        auto* x = draw.add_excluded();
        x->set_uscc(std::string(row.uscc));
        x->set_name(std::string(row.name));
        x->set_reason(*exclusion);
        x->set_detail(absl::StrCat(v1::DrawExclusion_Name(*exclusion), "; inspections this year: ",
                                   f.inspections_this_year));
        continue;
      }
      DrawCandidate c{row.uscc, row.region, row.industry, {}};
      candidate_names.push_back(row.name);
      if (auto it = last_inspectors.empty() ? last_inspectors.end() : last_inspectors.find(row.uscc);
          it != last_inspectors.end()) {
        c.last_inspector_ids.assign(it->second.begin(), it->second.end());
        std::sort(c.last_inspector_ids.begin(), c.last_inspector_ids.end());
      }
      candidates.push_back(std::move(c));
    }

    timer.Mark("exclusions");
    std::vector<DrawInspector> inspectors;
    absl::flat_hash_map<std::string, std::string> inspector_names;
    for (const auto& r :
         txn.exec_params(kSelectEligibleInspectors, common::FormatDate(today))) {
      DrawInspector i{r[0].c_str(), r[1].c_str(), r[2].c_str(),
                      SplitUnitSeparated(r[3].c_str()), SplitUnitSeparated(r[4].c_str())};
      if (!region.empty() && !RegionCovers(i.region_code, region) &&
          !absl::StartsWith(i.region_code, region)) {
        continue;
      }
      std::sort(i.industries.begin(), i.industries.end());
      std::sort(i.conflict_usccs.begin(), i.conflict_usccs.end());
      inspector_names[i.inspector_id] = r[5].c_str();
      inspectors.push_back(std::move(i));
    }
    std::sort(inspectors.begin(), inspectors.end(),
              [](const DrawInspector& a, const DrawInspector& b) {
                return a.inspector_id < b.inspector_id;
              });

    timer.Mark("inspectors");
    const std::string candidate_text = CanonicalCandidates(candidates);
    const std::string inspector_text = CanonicalInspectors(inspectors);
    PointInto(candidate_text, candidates);
    timer.Mark("snapshot_text");
    // Hashing and compressing tens of MB on the other core while this one draws.
    auto recorded = std::async(std::launch::async, [&candidate_text, &inspector_text] {
      return RecordedSnapshots{common::Sha256Hex(candidate_text), CompressSnapshot(candidate_text),
                               CompressSnapshot(inspector_text)};
    });
    auto result = ComputeDraw(candidates, inspectors, params);
    if (!result.ok()) return result.status();
    timer.Mark("compute");
    draw.set_draw_id(common::NewUuid());
    draw.set_check_item_code(request.check_item_code());
    *draw.mutable_filter() = request.filter();
    if (params.ratio) draw.set_ratio(*params.ratio);
    if (params.count) draw.set_count(*params.count);
    draw.set_team_size(team_size);
    draw.set_seed(params.seed);
    draw.set_algorithm(std::string(kDrawAlgorithm));
    draw.set_inspector_snapshot_hash(common::Sha256Hex(inspector_text));
    draw.set_candidate_count(static_cast<int32_t>(candidates.size()));
    draw.set_inspector_count(static_cast<int32_t>(inspectors.size()));
    draw.set_selected_count(result->selected_count);
    draw.set_credit_check(tiers->source);
    draw.set_draw_date(common::FormatDate(today));
    draw.set_drawn_by(request.drawn_by());
    SetTimestamp(now, draw.mutable_drawn_at());
    absl::flat_hash_map<std::string, const DrawInspector*> by_id;
    for (const auto& i : inspectors) by_id[i.inspector_id] = &i;
    for (size_t t = 0; t < result->usccs.size(); ++t) {
      auto* e = draw.add_enterprises();
      e->set_uscc(result->usccs[t]);
      e->set_name(std::string(candidate_names[result->positions[t]]));
      e->set_team_index(static_cast<int32_t>(t));
      e->set_weight(1.0);
      auto* team = draw.add_teams();
      team->set_team_index(static_cast<int32_t>(t));
      for (const auto& id : result->teams[t].inspector_ids) {
        auto* m = team->add_members();
        m->set_inspector_id(id);
        m->set_name(inspector_names[id]);
        m->set_certificate_no(by_id[id]->certificate_no);
      }
    }
    for (size_t t = 0; t < result->no_team_usccs.size(); ++t) {
      auto* x = draw.add_excluded();
      x->set_uscc(result->no_team_usccs[t]);
      x->set_name(std::string(candidate_names[result->no_team_positions[t]]));
      x->set_reason(v1::DRAW_EXCLUSION_NO_CONFLICT_FREE_TEAM);
      x->set_detail("selected, but no team of eligible inspectors without a conflict could be formed");
    }
    draw.set_result_hash(common::Sha256Hex(CanonicalResult(*result)));
    const RecordedSnapshots snapshots = recorded.get();
    draw.set_candidate_snapshot_hash(snapshots.candidate_hash);
    timer.Mark("build_draw");

    // The publication event is built on the other core while PostgreSQL stores the draw.
    auto event = std::async(std::launch::async, [&] {
      return DrawPublishedEvent(draw, item_name, request.filter().industry(), region, now);
    });
    txn.exec_params(kInsertDraw, draw.draw_id(), request.idempotency_key(),
                    draw.check_item_code(), absl::StrCat(draw.seed()), draw.draw_date(),
                    pqxx::binarystring(snapshots.candidates_zstd),
                    pqxx::binarystring(snapshots.inspectors_zstd), EncodeMessage(draw),
                    static_cast<double>(absl::ToUnixMicros(now)) / 1e6);
    timer.Mark("insert_draw");

    auto enqueued = common::EnqueueOutbox(txn, event.get());
    if (!enqueued.ok()) return enqueued.status();
    timer.Mark("outbox");
    *response = std::move(draw);
    recorded_now = true;
    return absl::OkStatus();
  });
  if (done.ok() && recorded_now) {
    timer.Mark("commit");
    common::LogInfo("draw recorded", {{"draw_id", response->draw_id()},
                                      {"candidates", absl::StrCat(response->candidate_count())},
                                      {"phases_ms", timer.Summary()}});
  }
  return done;
}

absl::Status InspectionServiceImpl::DoGetDraw(const v1::GetDrawRequest& request,
                                              v1::Draw* response) {
  return deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result row = txn.exec_params(kSelectDraw, request.draw_id());
    if (row.empty()) return absl::NotFoundError(absl::StrCat("draw ", request.draw_id()));
    return DecodeMessage(row[0][0].c_str(), response);
  });
}

absl::Status InspectionServiceImpl::DoVerifyDraw(const v1::VerifyDrawRequest& request,
                                                 v1::VerifyDrawResponse* response) {
  std::string candidate_text, inspector_text;
  v1::Draw draw;
  absl::Status loaded = deps_.pg.Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result row = txn.exec_params(kSelectDraw, request.draw_id());
    if (row.empty()) return absl::NotFoundError(absl::StrCat("draw ", request.draw_id()));
    auto candidates = RecordedSnapshot(row[0][1], row[0][3]);
    if (!candidates.ok()) return candidates.status();
    auto inspectors = RecordedSnapshot(row[0][2], row[0][4]);
    if (!inspectors.ok()) return inspectors.status();
    candidate_text = *std::move(candidates);
    inspector_text = *std::move(inspectors);
    return DecodeMessage(row[0][0].c_str(), &draw);
  });
  if (!loaded.ok()) return loaded;
  SetTimestamp(deps_.clock.Now(), response->mutable_verified_at());
  response->set_recorded_result_hash(draw.result_hash());
  response->set_candidate_snapshot_matches(common::Sha256Hex(candidate_text) ==
                                           draw.candidate_snapshot_hash());
  response->set_inspector_snapshot_matches(common::Sha256Hex(inspector_text) ==
                                           draw.inspector_snapshot_hash());
  auto candidates = ParseCandidates(candidate_text);
  auto inspectors = ParseInspectors(inspector_text);
  if (!candidates.ok() || !inspectors.ok()) {
    response->set_mismatch_reason("recorded snapshot does not parse");
    return absl::OkStatus();
  }
  auto result = ComputeDraw(*candidates, *inspectors, ParamsOf(draw));
  if (!result.ok()) {
    response->set_mismatch_reason(absl::StrCat("recomputation failed: ", result.status().message()));
    return absl::OkStatus();
  }
  response->set_recomputed_result_hash(common::Sha256Hex(CanonicalResult(*result)));
  std::vector<std::string> reasons;
  if (!response->candidate_snapshot_matches()) reasons.push_back("candidate snapshot hash differs");
  if (!response->inspector_snapshot_matches()) reasons.push_back("inspector snapshot hash differs");
  if (response->recomputed_result_hash() != draw.result_hash()) {
    reasons.push_back("recomputed result differs from the recorded result");
  }
  response->set_matches(reasons.empty());
  response->set_mismatch_reason(absl::StrJoin(reasons, "; "));
  return absl::OkStatus();
}

}  // namespace regsuite::inspection
