#include "search/random_search.h"

#include "core/error.h"

namespace hwnas {

RandomSearch::RandomSearch(const SearchSpace& space, RandomSearchParams params, std::uint64_t seed)
    : space_(space), params_(params), rng_(seed) {
  if (params_.batch == 0) throw Error("random search: the batch size (--population) must be > 0");
}

std::vector<Arch> RandomSearch::ask(std::size_t max_n, const ArchQuery& evaluated) {
  std::vector<Arch> out;
  const std::size_t n = std::min(max_n, params_.batch);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(draw_new([&] { return space_.sample(rng_); }, evaluated, out, params_.max_tries,
                           &failures_));
  return out;
}

nlohmann::json RandomSearch::save_state() const {
  return {{"algorithm", name()}, {"rng", rng_to_string(rng_)}, {"failures", failures_}};
}

void RandomSearch::load_state(const nlohmann::json& state) {
  if (state.value("algorithm", "") != name())
    throw Error("checkpoint holds the state of '" + state.value("algorithm", std::string("?")) +
                "', not of random search");
  rng_ = rng_from_string(state.at("rng").get<std::string>());
  failures_ = state.at("failures").get<std::size_t>();
}

}  // namespace hwnas
