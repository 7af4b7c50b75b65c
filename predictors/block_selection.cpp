#include "predictors/block_selection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "core/error.h"

namespace hwnas {
namespace {

constexpr std::size_t kDims = 5;

std::array<double, kDims> numeric(const BlockPoint& p) {
  return {p.log_source_ms, p.log_macs, p.log_bytes, p.log_input, p.log_positions};
}

}  // namespace

BlockPoint block_point(const BlockSpec& block, double source_ms) {
  if (!(source_ms > 0) || !std::isfinite(source_ms))
    throw Error("block " + block.key() + ": source latency " + std::to_string(source_ms) +
                " ms is not a positive number");
  const FeatureShape in = block_input_shape(block);
  const FeatureShape out = block_output_shape(block);
  const BlockCost cost = block_cost(block);
  const double in_elems = static_cast<double>(in.h) * in.w * in.c;
  const double out_elems = static_cast<double>(out.h) * out.w * out.c;
  BlockPoint p;
  p.kind = block.kind;
  p.variant = block_variant(block);
  p.log_source_ms = std::log(source_ms);
  // +1: a flatten or pooling block has no MACs and no parameters.
  p.log_macs = std::log1p(static_cast<double>(cost.macs));
  p.log_bytes = std::log1p(4.0 * (in_elems + out_elems + static_cast<double>(cost.params)));
  p.log_input = std::log1p(in_elems);
  p.log_positions = std::log1p(static_cast<double>(out.h) * out.w);
  return p;
}

std::vector<double> usage_weights(const std::vector<BlockSpec>& blocks,
                                  const std::vector<double>& source_ms,
                                  const std::vector<Network>& nets) {
  if (blocks.size() != source_ms.size())
    throw Error("usage weights: " + std::to_string(blocks.size()) + " blocks but " +
                std::to_string(source_ms.size()) + " latencies");
  std::unordered_map<BlockSpec, std::size_t, BlockSpecHash> index;
  for (std::size_t i = 0; i < blocks.size(); ++i) index.emplace(blocks[i], i);
  std::vector<double> w(blocks.size(), 0.0);
  for (const auto& net : nets) {
    double total = 0;
    std::vector<std::size_t> at;
    for (const auto& b : net.blocks) {
      const auto it = index.find(b);
      if (it == index.end())
        throw Error("usage weights: block " + b.key() + " of a network is not a candidate");
      at.push_back(it->second);
      total += source_ms[it->second];
    }
    if (total > 0)
      for (std::size_t i : at) w[i] += source_ms[i] / total / static_cast<double>(nets.size());
  }
  double mean = 0;
  for (double v : w) mean += v / static_cast<double>(std::max<std::size_t>(1, w.size()));
  for (double& v : w) v = std::max(v, 1e-3 * mean);
  return w;
}

std::vector<std::size_t> choose_blocks_k_center(const std::vector<BlockPoint>& points,
                                                const std::vector<bool>& measured, int count,
                                                const std::vector<double>& weights_in) {
  if (points.size() != measured.size())
    throw Error("block selection: " + std::to_string(points.size()) + " blocks but " +
                std::to_string(measured.size()) + " measured flags");
  if (count < 0) throw Error("block selection: count must be >= 0, got " + std::to_string(count));
  const std::size_t n = points.size();
  if (!weights_in.empty() && weights_in.size() != n)
    throw Error("block selection: " + std::to_string(n) + " blocks but " +
                std::to_string(weights_in.size()) + " weights");
  for (double w : weights_in)
    if (!(w >= 0) || !std::isfinite(w))
      throw Error("block selection: weight " + std::to_string(w) + " is not a number >= 0");
  const std::vector<double> weight = weights_in.empty() ? std::vector<double>(n, 1.0) : weights_in;
  // Standardise each feature over the candidates, so no unit dominates the distance.
  std::array<double, kDims> mean{}, sd{};
  for (const auto& p : points) {
    const auto v = numeric(p);
    for (std::size_t d = 0; d < kDims; ++d) mean[d] += v[d] / static_cast<double>(n);
  }
  for (const auto& p : points) {
    const auto v = numeric(p);
    for (std::size_t d = 0; d < kDims; ++d)
      sd[d] += (v[d] - mean[d]) * (v[d] - mean[d]) / static_cast<double>(n);
  }
  for (auto& s : sd) s = s > 0 ? std::sqrt(s) : 1.0;
  std::vector<std::array<double, kDims>> z(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = numeric(points[i]);
    for (std::size_t d = 0; d < kDims; ++d) z[i][d] = (v[d] - mean[d]) / sd[d];
  }
  auto dist = [&](std::size_t a, std::size_t b) {
    double s = 0;
    for (std::size_t d = 0; d < kDims; ++d) s += (z[a][d] - z[b][d]) * (z[a][d] - z[b][d]);
    return std::sqrt(s);
  };

  std::vector<bool> taken = measured;
  // nearest[i]: distance to the closest taken block of i's kind (infinite: kind not covered).
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> nearest(n, kInf);
  auto take = [&](std::size_t c) {
    taken[c] = true;
    for (std::size_t i = 0; i < n; ++i)
      if (points[i].kind == points[c].kind) nearest[i] = std::min(nearest[i], dist(i, c));
  };
  for (std::size_t i = 0; i < n; ++i)
    if (taken[i]) take(i);

  std::vector<std::size_t> picks;
  while (static_cast<int>(picks.size()) < count) {
    std::size_t best = n;
    for (std::size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      if (best == n) {
        best = i;
        continue;
      }
      // An uncovered kind wins; among uncovered kinds, the heaviest block, then the slowest.
      const bool inf_i = std::isinf(nearest[i]), inf_b = std::isinf(nearest[best]);
      if (inf_i && inf_b) {
        if (weight[i] > weight[best] ||
            (weight[i] == weight[best] && points[i].log_source_ms > points[best].log_source_ms))
          best = i;
      } else if (inf_i || weight[i] * nearest[i] > weight[best] * nearest[best]) {
        best = i;
      }
    }
    if (best == n) break;  // everything measured
    take(best);
    picks.push_back(best);
  }
  return picks;
}

}  // namespace hwnas
