#include "spaces/elasticvit_sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {
namespace {

// Uniform over the options >= floor (options increase); allocation-free: this runs per draw.
int pick_at_least(Rng& rng, const std::vector<int>& options, int floor) {
  const auto first = std::lower_bound(options.begin(), options.end(), floor);
  if (first == options.end())
    throw Error("elasticvit sampler: no option >= " + std::to_string(floor));
  const int lo = static_cast<int>(first - options.begin());
  return options[static_cast<std::size_t>(
      uniform_int(rng, lo, static_cast<int>(options.size()) - 1))];
}

ElasticVitConfig config_from_json(const ElasticVitSpace& space, const nlohmann::json& j) {
  nlohmann::json full = j;
  full["space"] = space.name();
  return ElasticVitSpace::config(space.from_json(full));
}

// The code's select_min_arch: the first min arch whose (previous key + 2b, key + 2b] holds T;
// the largest one above all keys.
int min_arch_key(const std::map<int, ElasticVitConfig>& archs, int target, int bound) {
  if (archs.empty()) throw Error("elasticvit sampler: no min_archs in the definition");
  if (target > archs.rbegin()->first) return archs.rbegin()->first;
  int lower = 0;
  for (const auto& [upper, arch] : archs) {
    if (lower + 2 * bound < target && target <= upper + 2 * bound) return upper;
    lower = upper;
  }
  throw Error("elasticvit sampler: level " + std::to_string(target) +
              " MFLOPs is below every min arch's range; use a level above " +
              std::to_string(2 * bound));
}

}  // namespace

ElasticVitSamplerConfig ElasticVitSamplerConfig::from_definition(const ElasticVitSpace& space) {
  const auto& j = space.definition().extra;
  const std::string what = "spaces/defs/elasticvit.json extra";
  require_only_keys(
      j,
      {"why", "levels_mflops", "flops_bound", "uniform_per_step", "min_archs",
       "bank_capacity_small", "bank_capacity_large", "bank_large_from_mflops", "bank_probability",
       "bank_probability_increment", "bank_probability_every_epochs", "max_candidates"},
      what);
  ElasticVitSamplerConfig c;
  c.levels_mflops =
      require_int_array(require_key(j, "levels_mflops", what), -1, what + ".levels_mflops");
  if (c.levels_mflops.empty() || !std::is_sorted(c.levels_mflops.begin(), c.levels_mflops.end()))
    throw Error(what + ".levels_mflops must be a non-empty increasing list");
  c.flops_bound = require_int(require_key(j, "flops_bound", what), what + ".flops_bound");
  c.uniform_per_step =
      require_int(require_key(j, "uniform_per_step", what), what + ".uniform_per_step");
  const auto& mins = require_key(j, "min_archs", what);
  if (!mins.is_object()) throw Error(what + ".min_archs must be an object keyed by MFLOPs");
  for (const auto& [key, arch] : mins.items()) {
    int k = 0;
    try {
      k = std::stoi(key);
    } catch (const std::exception&) {
      throw Error(what + ".min_archs key '" + key + "' must be an integer (MFLOPs)");
    }
    c.min_archs[k] = config_from_json(space, arch);
  }
  c.bank_capacity_small =
      require_int(require_key(j, "bank_capacity_small", what), what + ".bank_capacity_small");
  c.bank_capacity_large =
      require_int(require_key(j, "bank_capacity_large", what), what + ".bank_capacity_large");
  c.bank_large_from_mflops =
      require_int(require_key(j, "bank_large_from_mflops", what), what + ".bank_large_from_mflops");
  const auto number = [&](const char* key) {
    const auto& v = require_key(j, key, what);
    if (!v.is_number()) throw Error(what + "." + key + " must be a number");
    return v.get<double>();
  };
  c.bank_probability = number("bank_probability");
  c.bank_probability_increment = number("bank_probability_increment");
  c.bank_probability_every_epochs =
      require_int(require_key(j, "bank_probability_every_epochs", what),
                  what + ".bank_probability_every_epochs");
  c.max_candidates = require_int(require_key(j, "max_candidates", what), what + ".max_candidates");
  return c;
}

bool LevelMinimum::admits(const ElasticVitConfig& c) const {
  if (c.resolution < min_arch.resolution) return false;
  for (std::size_t s = 1; s < 7; ++s)
    if (c.widths[s] < min_arch.widths[s] || c.depths[s] < min_arch.depths[s]) return false;
  for (int e : c.expand)
    if (e < expand_floor) return false;
  for (std::size_t t = 0; t < 4; ++t)
    if (c.mlp_ratio[t] < mlp_floor || c.v_scale[t] < min_arch.v_scale[t]) return false;
  return true;
}

ComplexityAwareSampler::ComplexityAwareSampler(const ElasticVitSpace& space, std::uint64_t seed)
    : ComplexityAwareSampler(space, seed, ElasticVitSamplerConfig::from_definition(space)) {}

ComplexityAwareSampler::ComplexityAwareSampler(const ElasticVitSpace& space, std::uint64_t seed,
                                               ElasticVitSamplerConfig config)
    : space_(space), config_(std::move(config)), rng_(seed) {
  if (config_.levels_mflops.empty()) throw Error("elasticvit sampler: no FLOPs levels");
  if (config_.uniform_per_step < 1 || config_.max_draws < 1 || config_.max_candidates < 1)
    throw Error("elasticvit sampler: uniform_per_step, max_draws and max_candidates must be >= 1");
  for (int target : config_.levels_mflops) {
    LevelMinimum m;
    m.target_mflops = target;
    m.min_arch_key = min_arch_key(config_.min_archs, target, config_.flops_bound);
    m.min_arch = config_.min_archs.at(m.min_arch_key);
    m.expand_floor = *std::min_element(m.min_arch.expand.begin(), m.min_arch.expand.end());
    m.mlp_floor = *std::min_element(m.min_arch.mlp_ratio.begin(), m.min_arch.mlp_ratio.end());
    minima_.push_back(m);
  }
}

int ComplexityAwareSampler::walk() {
  // process.py get_bank_id: a uniform choice among three deltas; the ends repeat "stay".
  const int last = num_levels() - 1;
  int delta = uniform_int(rng_, 0, 2) - 1;  // -1, 0, +1
  if (level_ == 0 && delta < 0) delta = 0;
  if (level_ == last && delta > 0) delta = 0;
  if (last == 0) delta = 0;
  level_ += delta;
  return level_;
}

Arch ComplexityAwareSampler::sample_above_minimum(int level_index) {
  return space_.arch(draw_config(level_index));
}

ElasticVitConfig ComplexityAwareSampler::draw_config(int level_index) {
  const LevelMinimum& m = minimum(level_index);
  const auto& d = space_.dims();
  using S = ElasticVitSpace;
  ElasticVitConfig c;
  c.resolution = pick_at_least(rng_, d[S::kResolution].options, m.min_arch.resolution);
  c.widths[0] = pick_option(rng_, d[S::kWidth].options);  // the stem is not bounded
  c.depths[0] = pick_option(rng_, d[S::kDepth].options);
  for (std::size_t s = 1; s < 7; ++s) {
    c.widths[s] = pick_at_least(rng_, d[S::kWidth + s].options,
                                std::max(m.min_arch.widths[s], c.widths[s - 1]));
    c.depths[s] = pick_at_least(rng_, d[S::kDepth + s].options, m.min_arch.depths[s]);
  }
  for (std::size_t i = 0; i < 3; ++i) c.kernel[i] = pick_option(rng_, d[S::kKernel + i].options);
  for (std::size_t i = 0; i < 2; ++i)
    c.expand[i] = pick_at_least(rng_, d[S::kExpand + i].options, m.expand_floor);
  for (std::size_t t = 0; t < 4; ++t) {
    c.mlp_ratio[t] = pick_at_least(rng_, d[S::kMlp + t].options, m.mlp_floor);
    c.v_scale[t] = pick_at_least(rng_, d[S::kVScale + t].options, m.min_arch.v_scale[t]);
  }
  return c;
}

SampledSubnet ComplexityAwareSampler::sample_in_window(int level_index) {
  const int target = minimum(level_index).target_mflops;
  const double hi = target + 2.0 * config_.flops_bound;
  SampledSubnet out;
  for (int i = 0; i < config_.max_draws; ++i) {
    // FLOPs come from the plain config; only an accepted draw becomes a (validated) Arch.
    const ElasticVitConfig c = draw_config(level_index);
    const double f = ElasticVitSpace::reference_mflops(c);
    ++out.draws;
    if (f >= target && f <= hi) {
      ++accepted_;
      out.arch = space_.arch(c);
      out.mflops = f;
      return out;
    }
    ++rejected_;
  }
  throw Error("elasticvit sampler: no subnet in [" + std::to_string(target) + ", " +
              std::to_string(static_cast<int>(hi)) + "] MFLOPs after " +
              std::to_string(config_.max_draws) + " draws; raise max_draws or widen flops_bound");
}

SamplerStep ComplexityAwareSampler::next() {
  SamplerStep s;
  s.step = step_++;
  s.level_index = walk();
  s.target_mflops = config_.levels_mflops[static_cast<std::size_t>(s.level_index)];
  for (int i = 0; i < config_.uniform_per_step; ++i)
    s.subnets.push_back(sample_in_window(s.level_index));
  s.min_arch = space_.arch(minimum(s.level_index).min_arch);
  s.min_mflops = ElasticVitSpace::reference_mflops(minimum(s.level_index).min_arch);
  return s;
}

PerformanceAwareSampler::PerformanceAwareSampler(const ElasticVitSpace& space, std::uint64_t seed)
    : PerformanceAwareSampler(space, seed, ElasticVitSamplerConfig::from_definition(space)) {}

PerformanceAwareSampler::PerformanceAwareSampler(const ElasticVitSpace& space, std::uint64_t seed,
                                                 ElasticVitSamplerConfig config)
    : core_(space, seed, std::move(config)), banks_(core_.config().levels_mflops.size()) {}

const std::vector<BankEntry>& PerformanceAwareSampler::bank(int level_index) const {
  if (level_index < 0 || level_index >= static_cast<int>(banks_.size()))
    throw Error("elasticvit sampler: level index " + std::to_string(level_index) + " outside 0.." +
                std::to_string(banks_.size() - 1));
  return banks_[static_cast<std::size_t>(level_index)];
}

int PerformanceAwareSampler::capacity(int level_index) const {
  const auto& c = core_.config();
  return c.levels_mflops.at(static_cast<std::size_t>(level_index)) < c.bank_large_from_mflops
             ? c.bank_capacity_small
             : c.bank_capacity_large;
}

double PerformanceAwareSampler::bank_probability(int epoch) const {
  const auto& c = core_.config();
  const int steps = (epoch + 1) / std::max(1, c.bank_probability_every_epochs);
  return std::min(1.0, c.bank_probability + c.bank_probability_increment * steps);
}

double PerformanceAwareSampler::preference(const Arch& candidate, const Arch& anchor) {
  const ElasticVitConfig c = ElasticVitSpace::config(candidate),
                         a = ElasticVitSpace::config(anchor);
  ElasticVitConfig with_anchor_widths = c, with_anchor_depths = c;
  for (std::size_t s = 3; s < 7; ++s) {
    with_anchor_widths.widths[s] = a.widths[s];
    with_anchor_depths.depths[s] = a.depths[s];
  }
  return ElasticVitSpace::reference_mflops(with_anchor_widths) -
         ElasticVitSpace::reference_mflops(with_anchor_depths);
}

Arch PerformanceAwareSampler::anchor(int level_index) const {
  const auto& levels = core_.config().levels_mflops;
  if (levels.at(static_cast<std::size_t>(level_index)) > levels.front() &&
      !banks_.front().empty()) {
    const auto best =
        std::max_element(banks_.front().begin(), banks_.front().end(),
                         [](const BankEntry& x, const BankEntry& y) { return x.score < y.score; });
    return best->arch;
  }
  return core_.space().smallest();
}

bool PerformanceAwareSampler::offer(int level_index, const Arch& arch, double score) {
  bank(level_index);  // range check
  auto& b = banks_[static_cast<std::size_t>(level_index)];
  if (static_cast<int>(b.size()) < capacity(level_index)) {
    b.push_back({arch, score});
    return true;
  }
  const auto worst = std::min_element(
      b.begin(), b.end(), [](const BankEntry& x, const BankEntry& y) { return x.score < y.score; });
  if (worst->score < score) {
    *worst = {arch, score};
    return true;
  }
  return false;
}

SampledSubnet PerformanceAwareSampler::draw(int level, double p) {
  const auto& b = banks_[static_cast<std::size_t>(level)];
  const int half = capacity(level) / 2;
  Rng& rng = core_.rng();
  if (uniform_real(rng) < p && static_cast<int>(b.size()) > half) {
    // softmax(score) draw; subtracting the maximum leaves the distribution unchanged.
    double top = b.front().score;
    for (const auto& e : b) top = std::max(top, e.score);
    std::vector<double> weights;
    double total = 0;
    for (const auto& e : b) total += weights.emplace_back(std::exp(e.score - top));
    double u = uniform_real(rng) * total;
    std::size_t i = 0;
    while (i + 1 < b.size() && u >= weights[i]) u -= weights[i++];
    SampledSubnet out;
    out.arch = b[i].arch;
    out.mflops = ElasticVitSpace::reference_mflops(ElasticVitSpace::config(out.arch));
    out.from_bank = true;
    return out;
  }
  SampledSubnet chosen;
  std::vector<SampledSubnet> candidates;
  std::vector<double> prefs;
  std::int64_t draws = 0;
  const int max_candidates = core_.config().max_candidates;
  while (static_cast<int>(candidates.size()) < max_candidates) {
    candidates.push_back(core_.sample_in_window(level));
    draws += candidates.back().draws;
    if (static_cast<int>(b.size()) < half) {  // the code compares nothing while the bank is small
      prefs.push_back(-1);
      break;
    }
    prefs.push_back(preference(candidates.back().arch, anchor(level)));
  }
  const auto best =
      static_cast<std::size_t>(std::min_element(prefs.begin(), prefs.end()) - prefs.begin());
  chosen = candidates[best];
  chosen.draws = draws;
  chosen.preferences = prefs;
  for (const auto& c : candidates) chosen.candidates.push_back(c.arch);
  return chosen;
}

SamplerStep PerformanceAwareSampler::next(int epoch) {
  SamplerStep s;
  s.step = step_++;
  const double p = bank_probability(epoch);
  // The level walk and the minimum subnet are the complexity-aware sampler's.
  s.level_index = core_.walk();
  s.target_mflops = core_.config().levels_mflops[static_cast<std::size_t>(s.level_index)];
  for (int i = 0; i < core_.config().uniform_per_step; ++i)
    s.subnets.push_back(draw(s.level_index, p));
  const auto& m = core_.minimum(s.level_index);
  s.min_arch = core_.space().arch(m.min_arch);
  s.min_mflops = ElasticVitSpace::reference_mflops(m.min_arch);
  return s;
}

double synthetic_score(const Arch& arch, double mflops, std::uint64_t seed) {
  std::uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  for (int g : arch.genes) {
    h ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(g)) + 0x9e3779b97f4a7c15ull +
         (h << 6) + (h >> 2);
  }
  // splitmix64 finaliser spreads the hash over all bits before taking 53 of them.
  h ^= h >> 30, h *= 0xbf58476d1ce4e5b9ull, h ^= h >> 27, h *= 0x94d049bb133111ebull, h ^= h >> 31;
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  return 0.5 * std::log(std::max(mflops, 1.0) / 100.0) + 0.2 * u;
}

}  // namespace hwnas
