#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace regsuite::inspection {

/// Name and version of the draw algorithm recorded with every draw (README "Draw algorithm").
inline constexpr absl::string_view kDrawAlgorithm = "sha256-ctr-fisher-yates/v1";

/// SHA-256 counter-mode stream: block i = SHA-256("regsuite-draw/v1" || seed_be64 || i_be64),
/// each block read as four big-endian 64-bit words. Anyone can recompute it from the seed.
class DrawStream {
 public:
  explicit DrawStream(uint64_t seed) : seed_(seed) {}
  /// The next 64-bit word of the stream.
  uint64_t Next();
  /// Uniform in [0, bound) by rejection: words >= 2^64 - (2^64 mod bound) are skipped.
  uint64_t Uniform(uint64_t bound);

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
  unsigned char block_[32] = {};
  int used_ = 4;  // words of block_ consumed
};

/// A candidate enterprise as recorded in the snapshot (after exclusions, sorted by USCC).
/// Views: the caller keeps the text they point into (a query result, a snapshot text) alive
/// while it uses them, so that a province-wide pool of a million is not a million copies.
struct DrawCandidate {
  absl::string_view uscc;
  absl::string_view region_code;
  absl::string_view industry;
  // Inspectors of the enterprise's most recent inspection (not drawn again for it).
  std::vector<absl::string_view> last_inspector_ids;
};

/// An eligible inspector as recorded in the snapshot (sorted by id).
struct DrawInspector {
  std::string inspector_id;
  std::string certificate_no;
  std::string region_code;
  // Industries qualified for; empty = all.
  std::vector<std::string> industries;
  // Declared conflicts of interest (回避).
  std::vector<std::string> conflict_usccs;
};

struct DrawParameters {
  uint64_t seed = 0;
  // Exactly one of ratio / count.
  std::optional<double> ratio;
  std::optional<int32_t> count;
  int32_t team_size = 2;
};

struct DrawTeam {
  std::vector<std::string> inspector_ids;  // in draw order
};

struct DrawResult {
  int32_t selected_count = 0;  // k
  // Selected enterprises that got a team, in selection order; team i belongs to enterprise i.
  std::vector<std::string> usccs;
  std::vector<DrawTeam> teams;
  // Selected enterprises for which no conflict-free team could be formed.
  std::vector<std::string> no_team_usccs;
  // Positions in the candidate list of usccs and no_team_usccs (not part of the result hash).
  std::vector<uint32_t> positions;
  std::vector<uint32_t> no_team_positions;
};

/// Whether an inspector of `inspector_region` may inspect in `enterprise_region`: the
/// inspector's code with trailing "00" pairs removed is a prefix of the enterprise's code
/// (a city-level 330100 inspector covers 3301xx; a district 330106 inspector only 330106).
bool RegionCovers(absl::string_view inspector_region, absl::string_view enterprise_region);

/// Canonical snapshot texts; their SHA-256 hex is the recorded snapshot hash.
std::string CanonicalCandidates(const std::vector<DrawCandidate>& candidates);
std::string CanonicalInspectors(const std::vector<DrawInspector>& inspectors);
/// The candidates point into `text`.
absl::StatusOr<std::vector<DrawCandidate>> ParseCandidates(absl::string_view text);
absl::StatusOr<std::vector<DrawInspector>> ParseInspectors(absl::string_view text);
/// Canonical result text (hashed into Draw.result_hash).
std::string CanonicalResult(const DrawResult& result);

/// Number of enterprises to select: count (capped at n), or ceil(ratio * n - 1e-9).
absl::StatusOr<int32_t> SampleSize(const DrawParameters& params, int64_t n);

/// The draw itself (README "Draw algorithm"): partial Fisher–Yates over the candidates, then a
/// fresh partial Fisher–Yates over the inspectors per selected enterprise, skipping ineligible
/// ones. Candidates must be sorted by USCC and inspectors by id (checked: INVALID_ARGUMENT).
absl::StatusOr<DrawResult> ComputeDraw(const std::vector<DrawCandidate>& candidates,
                                       const std::vector<DrawInspector>& inspectors,
                                       const DrawParameters& params);

}  // namespace regsuite::inspection
