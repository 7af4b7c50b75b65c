#include "apps/common.h"

#include "core/error.h"
#include "evaluators/quant/engine_precision.h"
#include "spaces/precision_genes.h"
#include "spaces/registry.h"

namespace hwnas::apps {

CLI::Option* add_depthwise_option(CLI::App& app, std::string& rule, const std::string& help) {
  rule = "int8";
  return app.add_option("--depthwise", rule, "int8, faster or fp32: " + help)
      ->check(CLI::IsMember({"int8", "faster", "fp32"}))
      ->capture_default_str();
}

std::string mixed_int8_precision(const SearchSpace& space, const std::string& rule, bool given) {
  if (given && precision_stages(space) == 0)
    throw Error("--depthwise applies to a space with precision genes ('" + space.name() +
                std::string(kPrecisionGeneSuffix) + "'); drop it for '" + space.name() + "'");
  return int8_precision_name(parse_depthwise_precision(rule));
}

void add_space_option(CLI::App& app, std::string& space) {
  space = "efficientformer";
  app.add_option("--space", space, "search space (see `hwnas spaces`)")->capture_default_str();
}

void add_arch_option(CLI::App& app, std::string& arch, bool required) {
  auto* opt = app.add_option("--arch", arch,
                             "architecture: a named member (e.g. l1), inline JSON or a JSON file");
  if (required) opt->required();
}

void add_timing_options(CLI::App& app, const std::string& what, TimingConfig& timing,
                        int& windows) {
  app.add_option("--windows", windows,
                 "time each " + what +
                     " in this many windows seconds apart and pool them (robust "
                     "to bursts of interference on shared hosts)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--warmup", timing.warmup, "untimed runs per " + what)->capture_default_str();
  app.add_option("--min-repeats", timing.min_repeats, "timed runs per " + what + " (at least)")
      ->capture_default_str();
  app.add_option("--min-time-ms", timing.min_time_ms, "timed work per " + what + " (at least, ms)")
      ->capture_default_str();
  app.add_option("--min-cpu-share", timing.min_cpu_share,
                 "time a window again when the timing thread ran less than this share of its "
                 "wall time, or the host lost more than 1 - this to steal, or the engine's "
                 "workers waited for a CPU more than 1 - this of it (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--max-retimes", timing.max_retimes,
                 "times a disturbed window is timed again at most (the least disturbed is kept)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
}

}  // namespace hwnas::apps
