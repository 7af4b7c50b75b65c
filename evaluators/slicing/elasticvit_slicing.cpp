#include "evaluators/slicing/elasticvit_slicing.h"

#include <cmath>

#include "core/error.h"
#include "evaluators/slicing/supernet_slicing.h"
#include "spaces/elasticvit_space.h"

namespace hwnas {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void too_small(const std::string& name, const StoredTensor& t,
                            const std::vector<std::int64_t>& want) {
  throw Error("supernet tensor '" + name + "' has shape " + shape_string(t.shape) +
              ", too small for the subnet's " + shape_string(want));
}

// The side of a square grid of relative offsets: rows = (2g - 1)^2 -> g.
std::int64_t grid_of(std::int64_t rows) {
  const auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(rows))));
  return side * side == rows && side % 2 == 1 ? (side + 1) / 2 : 0;
}

// qkv rows are stacked [q of all heads | k of all heads | v of all heads] on the supernet's
// widths (C_max q rows, C_max k rows, then the v rows); the subnet keeps its heads' rows of each.
// head_dim: the q/k dim per head (heads = C / head_dim).
StoredTensor slice_qkv(const std::string& name, const StoredTensor& t,
                       const std::vector<std::int64_t>& want, std::int64_t head_dim) {
  if (t.shape.size() != 2 || want.size() != 2) too_small(name, t, want);
  const std::int64_t c = want[1], c_max = t.shape[1];
  const std::int64_t qk = c / head_dim * head_dim, v = want[0] - 2 * qk;
  if (c > c_max || v < 0 || qk > c_max || 2 * c_max + v > t.shape[0]) too_small(name, t, want);
  StoredTensor out{want, {}};
  out.data.reserve(static_cast<std::size_t>(want[0] * c));
  const auto rows = [&](std::int64_t from, std::int64_t count) {
    for (std::int64_t r = from; r < from + count; ++r)
      for (std::int64_t col = 0; col < c; ++col)
        out.data.push_back(t.data[static_cast<std::size_t>(r * c_max + col)]);
  };
  rows(0, qk);
  rows(c_max, qk);
  rows(2 * c_max, v);
  return out;
}

// Relative-position table ((2R-1)^2, H) -> ((2G-1)^2, h): offsets (dy, dx) in [-(G-1), G-1]
// are rows (dy + R - 1) * (2R - 1) + dx + R - 1 of the supernet's table (the code keeps the
// top-left G x G x G x G block of the R-grid bias, which reads exactly these rows).
StoredTensor slice_attention_bias(const std::string& name, const StoredTensor& t,
                                  const std::vector<std::int64_t>& want) {
  if (t.shape.size() != 2 || want.size() != 2) too_small(name, t, want);
  const std::int64_t r = grid_of(t.shape[0]), g = grid_of(want[0]), heads = want[1];
  if (r == 0 || g == 0)
    throw Error("supernet tensor '" + name + "' " + shape_string(t.shape) + " or the subnet's " +
                shape_string(want) + " is not a ((2G-1)^2, heads) relative-position table");
  if (g > r || heads > t.shape[1]) too_small(name, t, want);
  StoredTensor out{want, {}};
  out.data.reserve(static_cast<std::size_t>(want[0] * heads));
  const std::int64_t side = 2 * r - 1, off = r - g;
  for (std::int64_t dy = 0; dy < 2 * g - 1; ++dy)
    for (std::int64_t dx = 0; dx < 2 * g - 1; ++dx)
      for (std::int64_t h = 0; h < heads; ++h)
        out.data.push_back(
            t.data[static_cast<std::size_t>(((dy + off) * side + dx + off) * t.shape[1] + h)]);
  return out;
}

}  // namespace

WeightStore slice_elasticvit(const SearchSpace& space, const Arch& arch,
                             const WeightStore& supernet) {
  const auto* evit = dynamic_cast<const ElasticVitSpace*>(&space);
  if (!evit)
    throw Error("ElasticViT slicing needs an ElasticViT space, not '" + space.name() + "'");
  const std::int64_t head_dim = evit->definition().fixed_int("head_dim");
  return slice_each_tensor(
      space, arch, supernet, [](const std::string& name) { return name; },
      [&](const std::string& name, const std::string&, const StoredTensor& source,
          const std::vector<std::int64_t>& shape) {
        if (ends_with(name, ".qkv.weight")) return slice_qkv(name, source, shape, head_dim);
        if (ends_with(name, ".attention_bias")) return slice_attention_bias(name, source, shape);
        return slice_leading(name, source, shape);
      });
}

}  // namespace hwnas
