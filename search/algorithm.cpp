#include "search/algorithm.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace hwnas {

nlohmann::json individuals_to_json(const std::vector<Individual>& people) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : people)
    out.push_back({{"genes", p.arch.genes}, {"fitness", p.fitness}, {"violation", p.violation}});
  return out;
}

std::vector<Individual> individuals_from_json(const nlohmann::json& j, const std::string& space) {
  std::vector<Individual> out;
  for (const auto& p : j)
    out.push_back({Arch{space, p.at("genes").get<std::vector<int>>()}, p.at("fitness").get<Point>(),
                   p.at("violation").get<double>()});
  return out;
}

std::string rng_to_string(const Rng& rng) {
  std::ostringstream os;
  os << rng;
  return os.str();
}

Rng rng_from_string(const std::string& text) {
  std::istringstream is(text);
  Rng rng;
  is >> rng;
  if (is.fail()) throw Error("checkpoint: the saved random stream is malformed");
  return rng;
}

std::vector<std::size_t> nsga2_order(const std::vector<Individual>& people) {
  std::vector<Point> pts;
  std::vector<double> viol;
  for (const auto& p : people) {
    pts.push_back(p.fitness);
    viol.push_back(p.violation);
  }
  std::vector<std::size_t> order;
  for (const auto& front : non_dominated_sort(pts, viol)) {
    const auto d = crowding_distance(pts, front);
    std::vector<std::size_t> idx(front.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t a, std::size_t b) { return d[a] > d[b]; });
    for (std::size_t i : idx) order.push_back(front[i]);
  }
  return order;
}

Arch draw_new(const std::function<Arch()>& draw, const ArchQuery& evaluated,
              const std::vector<Arch>& taken, int max_tries, std::size_t* failures) {
  Arch a;
  for (int t = 0; t < std::max(1, max_tries); ++t) {
    a = draw();
    const bool seen =
        (evaluated && evaluated(a)) || std::find(taken.begin(), taken.end(), a) != taken.end();
    if (!seen) return a;
    ++*failures;
  }
  return a;
}

}  // namespace hwnas
