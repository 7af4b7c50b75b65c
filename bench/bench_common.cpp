#include "bench/bench_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

#include "core/build_id.h"
#include "core/error.h"
#include "spaces/registry.h"

#ifndef HWNAS_BENCH_BUILD_TYPE
#define HWNAS_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef HWNAS_BENCH_NATIVE
#define HWNAS_BENCH_NATIVE 0
#endif

namespace hwnas::bench {
namespace {

// google/benchmark flags (names without dashes) that the user gave on the command line.
std::set<std::string>& user_flags() {
  static std::set<std::string> flags;
  return flags;
}

// "--benchmark_repetitions=5" -> "benchmark_repetitions"; "" if not a --benchmark_ flag.
std::string benchmark_flag_name(std::string_view arg) {
  if (arg.rfind("--benchmark_", 0) != 0) return "";
  arg.remove_prefix(2);
  return std::string(arg.substr(0, arg.find('=')));
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (line.rfind("model name", 0) != 0 || colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "unknown";
}

double min_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

}  // namespace

std::vector<std::int64_t> Params::ints(const std::string& name,
                                       std::vector<std::int64_t> defaults) {
  std::vector<std::int64_t> values;
  const auto [lo, hi] = given_.equal_range(name);
  for (auto it = lo; it != hi; ++it) {
    std::string_view rest = it->second;
    while (true) {
      const auto comma = rest.find(',');
      const std::string item(rest.substr(0, comma));
      std::size_t used = 0;
      std::int64_t v = 0;
      try {
        v = std::stoll(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (item.empty() || used != item.size())
        throw std::invalid_argument("--" + name + ": '" + item + "' is not an integer");
      values.push_back(v);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (values.empty()) values = std::move(defaults);
  if (!asked_[name]) benchmark::AddCustomContext("param." + name, join(values));
  asked_[name] = true;
  return values;
}

std::vector<std::string> Params::strings(const std::string& name,
                                         std::vector<std::string> defaults) {
  std::vector<std::string> values;
  const auto [lo, hi] = given_.equal_range(name);
  for (auto it = lo; it != hi; ++it) values.push_back(it->second);
  if (values.empty()) values = std::move(defaults);
  if (!asked_[name]) benchmark::AddCustomContext("param." + name, join(values, " "));
  asked_[name] = true;
  return values;
}

std::vector<std::string> Params::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : given_)
    if (!asked_.count(name) && (out.empty() || out.back() != name)) out.push_back(name);
  return out;
}

bool flag_given(const std::string& name) { return user_flags().count(name) > 0; }

int run(int argc, char** argv, const Program& program) {
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") help = true;
    const std::string flag = benchmark_flag_name(arg);
    if (!flag.empty()) user_flags().insert(flag);
  }
  if (help)
    std::printf(
        "%s: a google/benchmark program of hwnas (bench/README.md).\n"
        "Its own parameters (--NAME=VALUE; integers as comma-separated lists, strings repeated):\n"
        "%s\n"
        "google/benchmark's flags:\n",
        program.name, program.usage);

  // The program's default google/benchmark flags go first, so that the user's override them;
  // one the user gave is left out altogether.
  static std::vector<std::string> storage;
  storage.assign(argv, argv + argc);
  for (auto& arg : storage)
    if (arg == "-h") arg = "--help";  // google/benchmark knows only the long form
  std::vector<std::string> flags(storage.begin(), storage.begin() + std::min(argc, 1));
  for (const auto& f : program.default_flags)
    if (!flag_given(benchmark_flag_name(f))) flags.push_back(f);
  flags.insert(flags.end(), storage.begin() + std::min(argc, 1), storage.end());
  storage = std::move(flags);
  std::vector<char*> args;
  for (auto& s : storage) args.push_back(s.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());  // takes out its flags; --help prints and exits

  std::multimap<std::string, std::string> given;
  for (int i = 1; i < n; ++i) {
    const std::string_view arg = args[static_cast<std::size_t>(i)];
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string_view::npos || eq == 2 ||
        arg.rfind("--benchmark_", 0) == 0) {
      std::fprintf(stderr, "%s: unrecognized argument '%s' (try --help)\n", program.name,
                   std::string(arg).c_str());
      return 2;
    }
    given.emplace(std::string(arg.substr(2, eq - 2)), std::string(arg.substr(eq + 1)));
  }
  Params params(std::move(given));
  try {
    program.register_benchmarks(params);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s: %s\n", program.name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.name, e.what());
    return 1;
  }
  if (const auto unused = params.unused(); !unused.empty()) {
    std::fprintf(stderr, "%s: unknown parameter --%s (try --help)\n", program.name,
                 unused.front().c_str());
    return 2;
  }

  benchmark::AddCustomContext("hwnas_benchmark", program.name);
  benchmark::AddCustomContext("hwnas_version", build_version());
  benchmark::AddCustomContext("hwnas_git_hash", build_git_hash());
  benchmark::AddCustomContext("hwnas_build_type", HWNAS_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("hwnas_march_native", HWNAS_BENCH_NATIVE ? "on" : "off");
#ifdef HWNAS_REFERENCE_KERNELS
  benchmark::AddCustomContext("hwnas_reference_kernels", "on");
#endif
#if defined(__GNUC__) && !defined(__clang__)
  benchmark::AddCustomContext("compiler", "GCC " __VERSION__);
#elif defined(__clang__)
  benchmark::AddCustomContext("compiler", "Clang " __clang_version__);
#endif
  benchmark::AddCustomContext("cpu_model", cpu_model());

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

Bench* timed(Bench* b, const Timed& d) {
  b->Unit(benchmark::kMillisecond)->UseRealTime()->ComputeStatistics("min", min_of);
  if (!flag_given("benchmark_repetitions")) b->Repetitions(d.repetitions);
  if (!flag_given("benchmark_report_aggregates_only") &&
      !flag_given("benchmark_display_aggregates_only"))
    b->ReportAggregatesOnly(true);
  if (!flag_given("benchmark_min_time")) b->MinTime(d.min_time_s);
  return b;
}

Bench* study(Bench* b) {
  b->Unit(benchmark::kMillisecond)
      ->UseManualTime()
      ->Iterations(1)
      ->ComputeStatistics("min", min_of);
  if (!flag_given("benchmark_report_aggregates_only") &&
      !flag_given("benchmark_display_aggregates_only"))
    b->ReportAggregatesOnly(true);
  return b;
}

void report_series(benchmark::State& state, const std::string& name, const std::vector<double>& v) {
  if (v.empty()) throw std::invalid_argument("report_series: empty series " + name);
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  const double med = s[s.size() / 2];
  int within5 = 0, within2 = 0;
  for (double x : v) {
    within5 += std::abs(x / med - 1) <= 0.05;
    within2 += std::abs(x / med - 1) <= 0.02;
  }
  state.counters[name + "_median"] = med;
  state.counters[name + "_within2"] = double(within2) / static_cast<double>(v.size());
  state.counters[name + "_within5"] = double(within5) / static_cast<double>(v.size());
  state.counters[name + "_max_over_min"] = s.back() / s.front();
}

std::string join(const std::vector<std::string>& values, const char* sep) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : sep) + v;
  return out;
}

std::string join(const std::vector<std::int64_t>& values, const char* sep) {
  std::string out;
  for (const auto v : values) out += (out.empty() ? "" : sep) + std::to_string(v);
  return out;
}

Network network_of(const std::string& spec, const std::string& default_space) {
  const auto colon = spec.find(':');
  const SearchSpace& space =
      get_space(colon == std::string::npos ? default_space : spec.substr(0, colon));
  return space.decode(space.resolve(colon == std::string::npos ? spec : spec.substr(colon + 1)));
}

ValidationCsv read_validation_csv(const SearchSpace& space, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read validation CSV " + path);
  ValidationCsv m;
  std::string line;
  std::getline(in, line);
  // The header's columns after index and arch line up with each row's fields after the arch.
  std::optional<std::size_t> speed_column;
  {
    std::size_t column = 0, start = 0;
    for (std::size_t k = 0; k <= line.size(); ++k)
      if (k == line.size() || line[k] == ',') {
        if (line.substr(start, k - start) == "speed_factor" && column >= 2)
          speed_column = column - 2;
        ++column;
        start = k + 1;
      }
  }
  bool every_speed = speed_column.has_value();
  while (std::getline(in, line)) {
    const auto q0 = line.find('"');
    if (q0 == std::string::npos) continue;
    std::string arch;
    std::size_t i = q0 + 1;
    for (; i < line.size(); ++i) {
      if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        arch += '"';
        ++i;
      } else if (line[i] == '"') {
        break;
      } else {
        arch += line[i];
      }
    }
    std::vector<std::string> rest;
    std::string field;
    for (std::size_t k = i + 2; k <= line.size(); ++k) {
      if (k == line.size() || line[k] == ',') {
        rest.push_back(field);
        field.clear();
      } else {
        field += line[k];
      }
    }
    if (rest.size() < 3) throw Error(path + ": a row without measured_ms");
    m.nets.push_back(space.decode(space.from_json(nlohmann::json::parse(arch))));
    m.e2e_ms.push_back(std::stod(rest[2]));
    if (every_speed && *speed_column < rest.size() && !rest[*speed_column].empty())
      m.speed_factor.push_back(std::stod(rest[*speed_column]));
    else
      every_speed = false;
  }
  if (!every_speed) m.speed_factor.clear();
  return m;
}

}  // namespace hwnas::bench
