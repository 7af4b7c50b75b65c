#include "search/arch_generator.h"

#include <cmath>
#include <string>

#include "core/error.h"

namespace hwnas {
namespace {

double entropy(const std::vector<double>& p) {
  double h = 0.0;
  for (double x : p)
    if (x > 0) h -= x * std::log(x);
  return h;
}

// Smallest mixture with the uniform distribution whose entropy reaches `target` (entropy rises
// monotonically along the segment towards the uniform distribution, its maximum).
void apply_entropy_floor(std::vector<double>& p, double floor_fraction) {
  const std::size_t k = p.size();
  if (k < 2) return;
  const double target = floor_fraction * std::log(static_cast<double>(k));
  if (entropy(p) >= target) return;
  const double u = 1.0 / static_cast<double>(k);
  auto mixed = [&](double lambda) {
    std::vector<double> q(k);
    for (std::size_t i = 0; i < k; ++i) q[i] = (1 - lambda) * p[i] + lambda * u;
    return q;
  };
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 50; ++it) {
    const double mid = 0.5 * (lo + hi);
    (entropy(mixed(mid)) >= target ? hi : lo) = mid;
  }
  p = mixed(hi);
}

}  // namespace

ArchGenerator::ArchGenerator(const SearchSpace& space, bool autoregressive)
    : space_(&space), autoregressive_(autoregressive) {
  const auto& dims = space.dims();
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (dims[d].options.empty())
      throw Error("generator: dimension '" + dims[d].name + "' has no options");
    const std::size_t contexts = (autoregressive && d > 0) ? dims[d - 1].options.size() : 1;
    const double u = 1.0 / static_cast<double>(dims[d].options.size());
    probs_.emplace_back(contexts, std::vector<double>(dims[d].options.size(), u));
  }
}

std::size_t ArchGenerator::context(std::size_t d, const std::vector<int>& option_index) const {
  return (autoregressive_ && d > 0) ? static_cast<std::size_t>(option_index[d - 1]) : 0;
}

Arch ArchGenerator::sample(Rng& rng) const {
  const auto& dims = space_->dims();
  Arch arch{space_->name(), std::vector<int>(dims.size())};
  std::vector<int> index(dims.size());
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const auto& p = probs_[d][context(d, index)];
    const double r = uniform_real(rng);
    double acc = 0.0;
    std::size_t pick = p.size() - 1;  // guards against rounding leaving r above the total
    for (std::size_t i = 0; i < p.size(); ++i) {
      acc += p[i];
      if (r < acc) {
        pick = i;
        break;
      }
    }
    index[d] = static_cast<int>(pick);
    arch.genes[d] = dims[d].options[pick];
  }
  space_->repair(arch);
  return arch;
}

void ArchGenerator::fit(const std::vector<Arch>& elites, double learning_rate,
                        double entropy_floor) {
  if (!(learning_rate >= 0 && learning_rate <= 1) || !(entropy_floor >= 0 && entropy_floor <= 1))
    throw Error("generator: learning rate and entropy floor must lie in [0, 1]");
  const auto& dims = space_->dims();
  std::vector<std::vector<std::vector<double>>> counts;
  for (const auto& rows : probs_)
    counts.emplace_back(rows.size(), std::vector<double>(rows[0].size(), 0.0));
  for (const auto& e : elites) {
    std::vector<int> index(dims.size());
    for (std::size_t d = 0; d < dims.size(); ++d) {
      index[d] = space_->option_index(d, e.genes.at(d));
      if (index[d] < 0)
        throw Error("generator: elite gene " + dims[d].name + "=" + std::to_string(e.genes[d]) +
                    " is not an option of the space");
    }
    for (std::size_t d = 0; d < dims.size(); ++d) counts[d][context(d, index)][index[d]] += 1.0;
  }
  for (std::size_t d = 0; d < probs_.size(); ++d) {
    for (std::size_t c = 0; c < probs_[d].size(); ++c) {
      auto& p = probs_[d][c];
      double total = 0.0;
      for (double x : counts[d][c]) total += x;
      if (total > 0)
        for (std::size_t i = 0; i < p.size(); ++i)
          p[i] = (1 - learning_rate) * p[i] + learning_rate * counts[d][c][i] / total;
      apply_entropy_floor(p, entropy_floor);
    }
  }
}

double ArchGenerator::normalised_entropy() const {
  double sum = 0.0;
  std::size_t rows = 0;
  for (const auto& dim : probs_)
    for (const auto& p : dim) {
      if (p.size() < 2) continue;
      sum += entropy(p) / std::log(static_cast<double>(p.size()));
      ++rows;
    }
  return rows ? sum / static_cast<double>(rows) : 0.0;
}

nlohmann::json ArchGenerator::to_json() const {
  nlohmann::json dims = nlohmann::json::array(), options = nlohmann::json::array();
  for (const auto& d : space_->dims()) {
    dims.push_back(d.name);
    options.push_back(d.options);
  }
  return {{"space", space_->name()},
          {"kind", autoregressive_ ? "autoregressive" : "factorised"},
          {"dims", dims},
          {"options", options},
          {"probs", probs_}};
}

ArchGenerator ArchGenerator::from_json(const SearchSpace& space, const nlohmann::json& j) {
  try {
    if (j.at("space").get<std::string>() != space.name())
      throw Error("generator was trained on space '" + j.at("space").get<std::string>() +
                  "', not '" + space.name() + "'");
    const std::string kind = j.at("kind").get<std::string>();
    if (kind != "factorised" && kind != "autoregressive")
      throw Error("generator kind '" + kind + "' is not factorised or autoregressive");
    ArchGenerator g(space, kind == "autoregressive");
    const auto& dims = space.dims();
    const auto options = j.at("options").get<std::vector<std::vector<int>>>();
    if (options.size() != dims.size())
      throw Error("generator has " + std::to_string(options.size()) + " dimensions, space '" +
                  space.name() + "' has " + std::to_string(dims.size()));
    for (std::size_t d = 0; d < dims.size(); ++d)
      if (options[d] != dims[d].options)
        throw Error("generator's options of '" + dims[d].name + "' differ from the space's");
    auto probs = j.at("probs").get<std::vector<std::vector<std::vector<double>>>>();
    for (std::size_t d = 0; d < dims.size(); ++d) {
      if (d >= probs.size() || probs[d].size() != g.probs_[d].size())
        throw Error("generator probabilities of '" + dims[d].name + "' have the wrong shape");
      for (const auto& row : probs[d])
        if (row.size() != dims[d].options.size())
          throw Error("generator probabilities of '" + dims[d].name + "' have the wrong shape");
    }
    g.probs_ = std::move(probs);
    return g;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("generator JSON is malformed: ") + e.what());
  }
}

}  // namespace hwnas
