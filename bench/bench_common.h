// What every hwnas benchmark program shares (bench/README.md, "How to run"). google/benchmark
// times, aggregates and reports; this adds
//  - the run context (hwnas version and git hash, CPU model, build flags, the program's
//    parameters), which --benchmark_format=json / --benchmark_out carry in "context";
//  - one convention for the parameters google/benchmark cannot express (which networks, which
//    blocks, which thread counts): --NAME=VALUE flags that only choose what gets registered;
//  - the defaults of each program (repetitions, minimum time, interleaving), applied only where
//    the matching --benchmark_* flag was not given, so the command line always wins.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "spaces/search_space.h"

namespace hwnas::bench {

using Bench = benchmark::internal::Benchmark;

/// The program's own parameters, given as --NAME=VALUE after google/benchmark's flags have been
/// taken out of argv. An integer parameter takes a comma-separated list (--threads=1,2) and
/// becomes an Arg of the registered benchmarks: every combination is registered (ArgsProduct),
/// named by ArgNames, so it shows in the benchmark's name (".../threads:2"). A string parameter
/// (a network, a block key: values that may contain commas) is repeated (--arch=l1 --arch=l3)
/// and gives one registered variant per value, its value in the name. Every parameter and its
/// values go to the run context as "param.NAME".
class Params {
 public:
  explicit Params(std::multimap<std::string, std::string> given) : given_(std::move(given)) {}

  /// Values of integer parameter `name`: the command line's, else `defaults`. Throws
  /// std::invalid_argument for a value that is not an integer.
  std::vector<std::int64_t> ints(const std::string& name, std::vector<std::int64_t> defaults);
  /// Values of string parameter `name`: every --name=VALUE given, else `defaults`.
  std::vector<std::string> strings(const std::string& name, std::vector<std::string> defaults);

  /// Names given on the command line that no ints()/strings() call asked for.
  std::vector<std::string> unused() const;

 private:
  std::multimap<std::string, std::string> given_;
  std::map<std::string, bool> asked_;
};

/// One benchmark program: its name (the "hwnas_benchmark" context key), a usage text for its
/// --NAME=VALUE parameters (printed before google/benchmark's own --help), google/benchmark
/// flags it runs with unless the command line sets them, and the function that registers its
/// benchmarks.
struct Program {
  const char* name;
  const char* usage;
  std::vector<std::string> default_flags;
  std::function<void(Params&)> register_benchmarks;
};

/// The main() of every benchmark program: adds the default flags, initialises google/benchmark,
/// reads the program's parameters, adds the context, registers and runs. Returns the exit code
/// (2 for an unknown flag or a bad parameter, 1 for an exception while registering).
int run(int argc, char** argv, const Program& program);

/// True when the user gave google/benchmark flag `name` (without the leading dashes, e.g.
/// "benchmark_repetitions") on the command line.
bool flag_given(const std::string& name);

/// The network a --arch=[SPACE:]ARCH parameter names: ARCH as `hwnas measure --arch` takes it (a
/// named member, inline JSON or a file) in SPACE, `default_space` when there is no colon. Throws
/// hwnas::Error for an unknown space or arch.
Network network_of(const std::string& spec, const std::string& default_space = "efficientformer");

/// Defaults of a timed benchmark (one whose iterations google/benchmark times).
struct Timed {
  int repetitions = 5;      ///< --benchmark_repetitions overrides
  double min_time_s = 0.5;  ///< per repetition; --benchmark_min_time overrides
};

/// A timed benchmark: wall-clock time (UseRealTime: the engine's work runs on other threads too)
/// in milliseconds, `d.repetitions` repetitions reported as their aggregates only (mean, median,
/// stddev, cv, and "min" added here); the median is the figure to quote. Warm-up is the
/// benchmark function's own (a few calls before its timed loop, every time it is called, so that
/// every repetition starts warm even when repetitions are interleaved).
Bench* timed(Bench* b, const Timed& d = {});

/// A study: a benchmark that runs once per repetition (one iteration) and reports statistics it
/// computes from many hwnas measurements (evaluators/runtime/timing.h, the latency table's method)
/// as counters; its time is what the benchmark sets with State::SetIterationTime (UseManualTime).
/// One repetition unless --benchmark_repetitions says otherwise.
Bench* study(Bench* b);

/// Runs `fn` `calls` times: the warm-up before a timed loop.
template <class Fn>
void warm_up(int calls, Fn&& fn) {
  for (int i = 0; i < calls; ++i) fn();
}

/// Counters `name`_median (upper middle), `name`_within2 and `name`_within5 (share of values
/// within 2 % / 5 % of the median) and `name`_max_over_min of a series of repeated
/// measurements (ms or ratios): how repeatable a quantity is on this host. Throws
/// std::invalid_argument on an empty series.
void report_series(benchmark::State& state, const std::string& name, const std::vector<double>& v);

/// "a,b,c" from a list of values, for context entries.
std::string join(const std::vector<std::string>& values, const char* sep = ",");
std::string join(const std::vector<std::int64_t>& values, const char* sep = ",");

/// The subnets of a `hwnas validate --csv` file and their end-to-end medians (ms), in its order.
struct ValidationCsv {
  std::vector<Network> nets;
  std::vector<double> e2e_ms;  ///< empty when nothing was read
  /// Each subnet's speed factor (its group's space-reference time over the build's), or empty
  /// when the CSV has no such column or a row leaves it blank (validated without a reference).
  std::vector<double> speed_factor;
};

/// Reads a `hwnas validate --csv` file (index,"arch",blocks,macs,measured_ms,... with the arch's
/// JSON quoted CSV-style; speed_factor found by its header) of `space`. Throws hwnas::Error for
/// an unreadable file or a row without measured_ms, and what the space throws for an arch it
/// rejects.
ValidationCsv read_validation_csv(const SearchSpace& space, const std::string& path);

}  // namespace hwnas::bench
