#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.h"

namespace hwnas {

bool dominates(const Point& a, const Point& b) {
  bool strictly = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly = true;
  }
  return strictly;
}

bool constrained_dominates(const Point& a, double violation_a, const Point& b, double violation_b) {
  const bool fa = violation_a <= 0.0;
  const bool fb = violation_b <= 0.0;
  if (fa && !fb) return true;
  if (!fa && fb) return false;
  if (!fa && !fb) return violation_a < violation_b;
  return dominates(a, b);
}

namespace {

// +1 if a constrained-dominates b, -1 if b dominates a, 0 otherwise: one pass for both tests.
int compare(const Point& a, double va, const Point& b, double vb) {
  const bool fa = va <= 0.0, fb = vb <= 0.0;
  if (fa != fb) return fa ? 1 : -1;
  if (!fa) return va < vb ? 1 : (vb < va ? -1 : 0);
  bool a_better = false, b_better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] < b[i])
      a_better = true;
    else if (b[i] < a[i])
      b_better = true;
    if (a_better && b_better) return 0;
  }
  return a_better ? 1 : (b_better ? -1 : 0);
}

}  // namespace

std::vector<std::vector<std::size_t>> non_dominated_sort(const std::vector<Point>& points,
                                                         const std::vector<double>& violations) {
  const std::size_t n = points.size();
  if (!violations.empty() && violations.size() != n)
    throw Error("non_dominated_sort: " + std::to_string(violations.size()) + " violations for " +
                std::to_string(n) + " points");
  auto viol = [&](std::size_t i) { return violations.empty() ? 0.0 : violations[i]; };
  std::vector<std::vector<std::size_t>> dominated(n);
  std::vector<std::size_t> count(n, 0);
  std::vector<std::vector<std::size_t>> fronts(1);
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t q = p + 1; q < n; ++q) {
      const int c = compare(points[p], viol(p), points[q], viol(q));
      if (c > 0) {
        dominated[p].push_back(q);
        ++count[q];
      } else if (c < 0) {
        dominated[q].push_back(p);
        ++count[p];
      }
    }
  }
  for (std::size_t p = 0; p < n; ++p)
    if (count[p] == 0) fronts[0].push_back(p);
  for (std::size_t k = 0; !fronts[k].empty(); ++k) {
    std::vector<std::size_t> next;
    for (std::size_t p : fronts[k])
      for (std::size_t q : dominated[p])
        if (--count[q] == 0) next.push_back(q);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();  // the empty sentinel
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<std::size_t>& front) {
  const std::size_t n = front.size();
  std::vector<double> dist(n, 0.0);
  if (n == 0) return dist;
  const double inf = std::numeric_limits<double>::infinity();
  if (n <= 2) return std::vector<double>(n, inf);
  const std::size_t m = points[front[0]].size();
  std::vector<std::size_t> order(n);
  for (std::size_t k = 0; k < m; ++k) {
    std::iota(order.begin(), order.end(), 0);
    // Ties broken by index so the result does not depend on the sort implementation.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const double fa = points[front[a]][k], fb = points[front[b]][k];
      return fa < fb || (fa == fb && front[a] < front[b]);
    });
    const double lo = points[front[order.front()]][k];
    const double hi = points[front[order.back()]][k];
    dist[order.front()] = inf;
    dist[order.back()] = inf;
    if (hi <= lo) continue;
    for (std::size_t i = 1; i + 1 < n; ++i)
      dist[order[i]] +=
          (points[front[order[i + 1]]][k] - points[front[order[i - 1]]][k]) / (hi - lo);
  }
  return dist;
}

namespace {

// Area dominated by 2-D points bounded by ref; points must be strictly inside the box.
double hypervolume_2d(std::vector<std::pair<double, double>> pts, double rx, double ry) {
  std::sort(pts.begin(), pts.end());
  double area = 0.0;
  double best_y = ry;
  for (const auto& [x, y] : pts) {
    if (y < best_y) {
      area += (rx - x) * (best_y - y);
      best_y = y;
    }
  }
  return area;
}

}  // namespace

double hypervolume(const std::vector<Point>& points, const Point& ref) {
  const std::size_t m = ref.size();
  if (m != 2 && m != 3)
    throw Error("hypervolume: exact computation supports 2 or 3 objectives, got " +
                std::to_string(m));
  std::vector<Point> inside;
  for (const auto& p : points) {
    if (p.size() != m)
      throw Error("hypervolume: a point has " + std::to_string(p.size()) +
                  " objectives, the reference point " + std::to_string(m));
    bool ok = true;
    for (std::size_t k = 0; k < m; ++k) ok = ok && p[k] < ref[k];
    if (ok) inside.push_back(p);
  }
  if (inside.empty()) return 0.0;
  if (m == 2) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : inside) pts.emplace_back(p[0], p[1]);
    return hypervolume_2d(std::move(pts), ref[0], ref[1]);
  }
  // Slice along the third objective: between consecutive z values the dominated region's
  // cross-section is the 2-D hypervolume of every point with a smaller z.
  std::sort(inside.begin(), inside.end(),
            [](const Point& a, const Point& b) { return a[2] < b[2]; });
  double volume = 0.0;
  std::vector<std::pair<double, double>> slab;
  for (std::size_t i = 0; i < inside.size(); ++i) {
    slab.emplace_back(inside[i][0], inside[i][1]);
    const double z_next = i + 1 < inside.size() ? inside[i + 1][2] : ref[2];
    const double depth = z_next - inside[i][2];
    if (depth > 0) volume += depth * hypervolume_2d(slab, ref[0], ref[1]);
  }
  return volume;
}

Point Normalisation::apply(const Point& f) const {
  Point out(f.size());
  for (std::size_t k = 0; k < f.size(); ++k) {
    const double span = hi[k] - lo[k];
    out[k] = (f[k] - lo[k]) / (span > 0 ? span : 1.0);
  }
  return out;
}

double hypervolume_normalised(const std::vector<Point>& points, const Normalisation& norm) {
  std::vector<Point> scaled;
  scaled.reserve(points.size());
  for (const auto& p : points) scaled.push_back(norm.apply(p));
  return hypervolume(scaled, Point(norm.lo.size(), kHypervolumeReference));
}

double igd(const std::vector<Point>& front, const std::vector<Point>& reference) {
  if (front.empty() || reference.empty())
    throw Error("igd: needs a non-empty front and a non-empty reference front");
  double total = 0.0;
  for (const auto& r : reference) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& p : front) {
      double d2 = 0.0;
      for (std::size_t k = 0; k < r.size(); ++k) d2 += (p[k] - r[k]) * (p[k] - r[k]);
      best = std::min(best, d2);
    }
    total += std::sqrt(best);
  }
  return total / static_cast<double>(reference.size());
}

std::vector<std::size_t> pareto_front_indices(const std::vector<Point>& points) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j)
      dominated = j != i && dominates(points[j], points[i]);
    if (!dominated) out.push_back(i);
  }
  return out;
}

}  // namespace hwnas
