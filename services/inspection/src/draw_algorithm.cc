#include "draw_algorithm.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/status.h"

namespace regsuite::inspection {
namespace {

constexpr absl::string_view kStreamDomain = "regsuite-draw/v1";

void PutBigEndian(uint64_t value, unsigned char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
}

template <typename Text = std::string>
std::vector<Text> SplitList(absl::string_view field) {
  if (field.empty()) return {};
  return absl::StrSplit(field, ',');
}

template <typename Text>
bool Contains(const std::vector<Text>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The part of a region code RegionCovers compares, packed for the team loop: the draw visits
// inspectors in random order, and reading each one's strings from memory dominated it.
struct PackedRegion {
  uint64_t word = 0;  // first 8 bytes, big-endian, zero-padded
  size_t length = 0;
  bool packed = true;  // false: longer than 8 bytes, compare the strings

  explicit PackedRegion(absl::string_view code) : length(code.size()), packed(code.size() <= 8) {
    for (size_t i = 0; i < 8; ++i) {
      word = (word << 8) | (i < code.size() ? static_cast<unsigned char>(code[i]) : 0u);
    }
  }
};

// RegionCovers for packed codes; `prefix` is an inspector's region with its "00" pairs removed.
bool PackedCovers(const PackedRegion& prefix, const PackedRegion& region) {
  if (prefix.length > region.length) return false;
  if (prefix.length == 0) return true;
  return ((prefix.word ^ region.word) >> (64 - 8 * prefix.length)) == 0;
}

absl::string_view CoveredPrefix(absl::string_view inspector_region) {
  absl::string_view prefix = inspector_region;
  while (prefix.size() >= 2 && prefix.substr(prefix.size() - 2) == "00") {
    prefix.remove_suffix(2);
  }
  return prefix;
}

}  // namespace

uint64_t DrawStream::Next() {
  if (used_ == 4) {
    unsigned char input[16 + 16];
    std::copy(kStreamDomain.begin(), kStreamDomain.end(), input);
    PutBigEndian(seed_, input + 16);
    PutBigEndian(counter_, input + 24);
    SHA256(input, sizeof(input), block_);
    ++counter_;
    used_ = 0;
  }
  uint64_t word = 0;
  for (int i = 0; i < 8; ++i) word = (word << 8) | block_[used_ * 8 + i];
  ++used_;
  return word;
}

uint64_t DrawStream::Uniform(uint64_t bound) {
  // 2^64 mod bound, computed without overflow.
  const uint64_t remainder = (0 - bound) % bound;
  const uint64_t limit = 0 - remainder;  // 2^64 - remainder (0 means "no rejection")
  while (true) {
    uint64_t word = Next();
    if (remainder == 0 || word < limit) return word % bound;
  }
}

bool RegionCovers(absl::string_view inspector_region, absl::string_view enterprise_region) {
  return absl::StartsWith(enterprise_region, CoveredPrefix(inspector_region));
}

std::string CanonicalCandidates(const std::vector<DrawCandidate>& candidates) {
  // Plain appends into one reserved buffer: a million lines (StrAppend's general path cost
  // several times more).
  size_t size = 0;
  for (const DrawCandidate& c : candidates) {
    size += c.uscc.size() + c.region_code.size() + c.industry.size() + 4;
    for (absl::string_view id : c.last_inspector_ids) size += id.size() + 1;
  }
  std::string out;
  out.reserve(size);
  for (const DrawCandidate& c : candidates) {
    out.append(c.uscc.data(), c.uscc.size()).push_back('\t');
    out.append(c.region_code.data(), c.region_code.size()).push_back('\t');
    out.append(c.industry.data(), c.industry.size()).push_back('\t');
    for (size_t i = 0; i < c.last_inspector_ids.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append(c.last_inspector_ids[i].data(), c.last_inspector_ids[i].size());
    }
    out.push_back('\n');
  }
  return out;
}

std::string CanonicalInspectors(const std::vector<DrawInspector>& inspectors) {
  std::string out;
  for (const DrawInspector& i : inspectors) {
    absl::StrAppend(&out, i.inspector_id, "\t", i.certificate_no, "\t", i.region_code, "\t",
                    absl::StrJoin(i.industries, ","), "\t", absl::StrJoin(i.conflict_usccs, ","),
                    "\n");
  }
  return out;
}

absl::StatusOr<std::vector<DrawCandidate>> ParseCandidates(absl::string_view text) {
  std::vector<DrawCandidate> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.size() != 4) return absl::DataLossError("candidate snapshot: malformed line");
    out.push_back({f[0], f[1], f[2], SplitList<absl::string_view>(f[3])});
  }
  return out;
}

absl::StatusOr<std::vector<DrawInspector>> ParseInspectors(absl::string_view text) {
  std::vector<DrawInspector> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.size() != 5) return absl::DataLossError("inspector snapshot: malformed line");
    out.push_back({std::string(f[0]), std::string(f[1]), std::string(f[2]), SplitList(f[3]),
                   SplitList(f[4])});
  }
  return out;
}

std::string CanonicalResult(const DrawResult& result) {
  std::string out = absl::StrCat("k\t", result.selected_count, "\n");
  for (size_t i = 0; i < result.usccs.size(); ++i) {
    absl::StrAppend(&out, "E\t", result.usccs[i], "\t", i, "\t",
                    absl::StrJoin(result.teams[i].inspector_ids, ","), "\n");
  }
  for (const std::string& uscc : result.no_team_usccs) absl::StrAppend(&out, "X\t", uscc, "\n");
  return out;
}

absl::StatusOr<int32_t> SampleSize(const DrawParameters& params, int64_t n) {
  if (params.count.has_value() == params.ratio.has_value()) {
    return common::FieldError("sample_size", "exactly one of ratio or count is required");
  }
  if (params.count.has_value()) {
    if (*params.count <= 0) return common::FieldError("count", "must be positive");
    return static_cast<int32_t>(std::min<int64_t>(*params.count, n));
  }
  const double ratio = *params.ratio;
  if (!(ratio > 0.0 && ratio <= 1.0)) return common::FieldError("ratio", "must be in (0, 1]");
  const double k = std::ceil(ratio * static_cast<double>(n) - 1e-9);
  return static_cast<int32_t>(std::clamp<double>(k, 0, static_cast<double>(n)));
}

absl::StatusOr<DrawResult> ComputeDraw(const std::vector<DrawCandidate>& candidates,
                                       const std::vector<DrawInspector>& inspectors,
                                       const DrawParameters& params) {
  if (params.team_size < 2) return common::FieldError("team_size", "must be at least 2");
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (!(candidates[i - 1].uscc < candidates[i].uscc)) {
      return absl::InvalidArgumentError("candidates: not strictly sorted by USCC");
    }
  }
  for (size_t i = 1; i < inspectors.size(); ++i) {
    if (!(inspectors[i - 1].inspector_id < inspectors[i].inspector_id)) {
      return absl::InvalidArgumentError("inspectors: not strictly sorted by id");
    }
  }
  auto k = SampleSize(params, static_cast<int64_t>(candidates.size()));
  if (!k.ok()) return k.status();

  DrawResult result;
  result.selected_count = *k;
  DrawStream stream(params.seed);

  // Step 1: partial Fisher–Yates over candidate positions.
  const uint64_t n = candidates.size();
  std::vector<uint32_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  for (uint64_t i = 0; i < static_cast<uint64_t>(*k); ++i) {
    const uint64_t j = i + stream.Uniform(n - i);
    std::swap(order[i], order[j]);
  }

  // Step 2: per selected enterprise, a fresh partial Fisher–Yates over inspector positions,
  // taking each inspector that lands at position i if eligible, until team_size are taken.
  const uint64_t m = inspectors.size();
  std::vector<PackedRegion> prefixes;
  prefixes.reserve(m);
  for (const DrawInspector& i : inspectors) prefixes.emplace_back(CoveredPrefix(i.region_code));
  absl::flat_hash_map<uint64_t, uint64_t> swapped;  // sparse permutation of [0, m)
  for (int32_t s = 0; s < *k; ++s) {
    const DrawCandidate& enterprise = candidates[order[s]];
    const PackedRegion region(enterprise.region_code);
    swapped.clear();  // keeps its capacity: one map for the whole draw
    auto at = [&](uint64_t pos) {
      auto it = swapped.find(pos);
      return it == swapped.end() ? pos : it->second;
    };
    DrawTeam team;
    for (uint64_t i = 0; i < m && static_cast<int32_t>(team.inspector_ids.size()) < params.team_size;
         ++i) {
      const uint64_t j = i + stream.Uniform(m - i);
      const uint64_t vi = at(i);
      const uint64_t vj = at(j);
      swapped[i] = vj;
      swapped[j] = vi;
      const bool in_region = prefixes[vj].packed && region.packed
                                 ? PackedCovers(prefixes[vj], region)
                                 : RegionCovers(inspectors[vj].region_code, enterprise.region_code);
      if (!in_region) continue;
      const DrawInspector& candidate = inspectors[vj];
      const bool eligible =
          (candidate.industries.empty() || Contains(candidate.industries, enterprise.industry)) &&
          !Contains(candidate.conflict_usccs, enterprise.uscc) &&
          !Contains(enterprise.last_inspector_ids, candidate.inspector_id);
      if (eligible) team.inspector_ids.push_back(candidate.inspector_id);
    }
    if (static_cast<int32_t>(team.inspector_ids.size()) < params.team_size) {
      result.no_team_usccs.emplace_back(enterprise.uscc);
      result.no_team_positions.push_back(order[s]);
      continue;
    }
    result.usccs.emplace_back(enterprise.uscc);
    result.positions.push_back(order[s]);
    result.teams.push_back(std::move(team));
  }
  return result;
}

}  // namespace regsuite::inspection
