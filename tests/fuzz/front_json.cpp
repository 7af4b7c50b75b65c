// Fuzz target: a run's front.json as `hwnas export` reads it (load_run, then the members, the
// JSON and CSV exports, the charts and the report), next to a valid run.db of the same run.
#include <cstdint>
#include <filesystem>

#include "core/error.h"
#include "results/run_data.h"
#include "results/run_exports.h"
#include "results/run_store.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/run_problem.h"

namespace {

// A run of three evaluations (the space's smallest, largest and first named arch), stored once.
std::string make_run_dir() {
  hwnas::Problem& problem = hwnas::fuzz::run_problem();
  const hwnas::SearchSpace& space = problem.space();
  const std::string dir = hwnas::fuzz::scratch_dir() + "/run";
  std::filesystem::create_directories(dir);
  hwnas::RunStore store(dir + "/run.db");
  store.bind(problem);
  store.set_config({{"space", space.name()}, {"algorithm", "nsga2"}, {"seed", 1}});
  hwnas::GenerationRecord record;
  record.new_evaluations =
      problem.evaluate({space.smallest(), space.largest(), space.named().front().second}, 0);
  record.evaluations = record.new_evaluations.size();
  store.save_generation(record);
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = make_run_dir();
  hwnas::fuzz::write_file("run/front.json", data, size);
  try {
    const hwnas::RunData run = hwnas::load_run(dir);
    const hwnas::SearchSpace& space = hwnas::get_space(run.front.at("space").get<std::string>());
    (void)run.objective_names();
    for (const auto& e : run.evaluations) (void)run.on_front(e);
    for (const char* which : {"front", "all", "2"}) {
      const auto members = hwnas::select_members(run, space, which);
      (void)hwnas::export_members_json(run, space, members);
    }
    (void)hwnas::evaluations_csv(run, space);
    (void)hwnas::render_svg(hwnas::front_chart(run, space, nullptr));
    (void)hwnas::render_svg(hwnas::hypervolume_chart(run));
  } catch (const hwnas::Error&) {
  }
  return 0;
}
