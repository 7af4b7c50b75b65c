#include "tests/search/toy_spaces.h"

#include <cmath>

#include "core/error.h"

namespace hwnas::test {

ToySpace::ToySpace(std::string name, std::vector<Dim> dims, RepairFn repair, DecodeFn decode)
    : name_(std::move(name)),
      dims_(std::move(dims)),
      repair_(std::move(repair)),
      decode_(std::move(decode)) {}

Arch ToySpace::sample(Rng& rng) const {
  Arch a{name_, {}};
  for (const auto& d : dims_)
    a.genes.push_back(d.options[static_cast<std::size_t>(
        uniform_int(rng, 0, static_cast<int>(d.options.size()) - 1))]);
  repair(a);
  return a;
}

void ToySpace::repair(Arch& arch) const {
  if (repair_) repair_(arch);
}

Network ToySpace::decode(const Arch& arch) const {
  validate(arch);
  return decode_ ? decode_(arch) : Network{name_, {1, 1, 3}, {}, {}};
}

void ToySpace::validate(const Arch& arch) const {
  if (arch.space != name_ || arch.genes.size() != dims_.size())
    throw Error("arch does not belong to toy space " + name_);
  for (std::size_t d = 0; d < dims_.size(); ++d)
    if (option_index(d, arch.genes[d]) < 0)
      throw Error("toy space " + name_ + ": bad " + dims_[d].name);
  Arch r = arch;
  repair(r);
  if (r != arch) throw Error("toy space " + name_ + ": arch violates a joint constraint");
}

Arch ToySpace::largest() const {
  Arch a{name_, {}};
  for (const auto& d : dims_) a.genes.push_back(d.options.back());
  repair(a);
  return a;
}

Arch ToySpace::smallest() const {
  Arch a{name_, {}};
  for (const auto& d : dims_) a.genes.push_back(d.options.front());
  repair(a);
  return a;
}

nlohmann::json ToySpace::to_json(const Arch& arch) const {
  nlohmann::json j{{"space", name_}};
  for (std::size_t d = 0; d < dims_.size(); ++d) j[dims_[d].name] = arch.genes.at(d);
  return j;
}

Arch ToySpace::from_json(const nlohmann::json& j) const {
  Arch a{name_, {}};
  for (const auto& d : dims_) {
    if (!j.contains(d.name)) throw Error("toy arch JSON lacks '" + d.name + "'");
    a.genes.push_back(j.at(d.name).get<int>());
  }
  validate(a);
  return a;
}

std::vector<Arch> ToySpace::enumerate() const {
  std::vector<Arch> out;
  std::vector<std::size_t> idx(dims_.size(), 0);
  while (true) {
    Arch a{name_, {}};
    for (std::size_t d = 0; d < dims_.size(); ++d) a.genes.push_back(dims_[d].options[idx[d]]);
    Arch r = a;
    repair(r);
    if (r == a) out.push_back(a);
    std::size_t d = 0;
    while (d < dims_.size() && ++idx[d] == dims_[d].options.size()) idx[d++] = 0;
    if (d == dims_.size()) break;
  }
  return out;
}

std::unique_ptr<ToySpace> make_zdt_space(int vars, int levels) {
  std::vector<Dim> dims;
  std::vector<int> opts;
  for (int l = 0; l < levels; ++l) opts.push_back(l);
  for (int v = 0; v < vars; ++v) dims.push_back({"x" + std::to_string(v), opts});
  return std::make_unique<ToySpace>("zdt", dims, nullptr, nullptr);
}

double ZdtObjective::value(int problem, int which, int levels, const std::vector<int>& genes) {
  const double scale = 1.0 / static_cast<double>(levels - 1);
  const double f1 = genes[0] * scale;
  if (which == 1) return f1;
  double sum = 0.0;
  for (std::size_t i = 1; i < genes.size(); ++i) sum += genes[i] * scale;
  const double g = 1.0 + 9.0 * sum / static_cast<double>(genes.size() - 1);
  const double r = f1 / g;
  return problem == 1 ? g * (1.0 - std::sqrt(r)) : g * (1.0 - r * r);
}

std::vector<double> ZdtObjective::evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out;
  for (const auto& a : archs) out.push_back(value(problem_, which_, levels_, a.genes));
  return out;
}

namespace {

std::vector<int> range(int lo, int hi, int step) {
  std::vector<int> v;
  for (int x = lo; x <= hi; x += step) v.push_back(x);
  return v;
}

}  // namespace

std::unique_ptr<ToySpace> make_synthetic_space() {
  std::vector<Dim> dims = {{"width0", range(16, 64, 16)},  {"width1", range(32, 128, 16)},
                           {"width2", range(64, 176, 16)}, {"depth0", range(1, 4, 1)},
                           {"depth1", range(1, 4, 1)},     {"depth2", range(1, 6, 1)},
                           {"num_vit", range(0, 6, 1)}};
  auto repair = [](Arch& a) { a.genes[6] = std::min(a.genes[6], a.genes[5]); };
  auto decode = [](const Arch& a) {
    const int w0 = a.genes[0], w1 = a.genes[1], w2 = a.genes[2];
    Network n{"synthetic", {64, 64, 3}, {}, {}};
    n.blocks.push_back(BlockSpec::make(BlockKind::stem, {3, w0, 64, 64}));
    for (int i = 0; i < a.genes[3]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta4d, {w0, 16, 16, 3, 4}));
    n.blocks.push_back(BlockSpec::make(BlockKind::downsample, {w0, w1, 16, 16}));
    for (int i = 0; i < a.genes[4]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta4d, {w1, 8, 8, 3, 4}));
    n.blocks.push_back(BlockSpec::make(BlockKind::downsample, {w1, w2, 8, 8}));
    for (int i = 0; i < a.genes[5] - a.genes[6]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta4d, {w2, 4, 4, 3, 4}));
    if (a.genes[6] > 0) {
      n.blocks.push_back(BlockSpec::make(BlockKind::flatten, {w2, 4, 4}));
      for (int i = 0; i < a.genes[6]; ++i)
        n.blocks.push_back(BlockSpec::make(BlockKind::meta3d, {w2, 4, 4, 8, 32, 4, 4}));
    }
    n.blocks.push_back(BlockSpec::make(BlockKind::head, {w2, 16, 10, 1}));
    return n;
  };
  return std::make_unique<ToySpace>("synthetic", dims, repair, decode);
}

std::unique_ptr<ToySpace> make_slim_space() {
  std::vector<Dim> dims = {{"width0", {16, 32}},
                           {"width1", {32, 48, 64}},
                           {"depth0", {1, 2}},
                           {"depth1", {1, 2, 3}},
                           {"num_vit", {0, 1}}};
  auto repair = [](Arch& a) { a.genes[4] = std::min(a.genes[4], a.genes[3]); };
  auto decode = [](const Arch& a) {
    Network n{"slim", {32, 32, 3}, {}, {}};
    for (int i = 0; i < a.genes[2]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta4d, {a.genes[0], 8, 8, 3, 4}));
    for (int i = 0; i < a.genes[3] - a.genes[4]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta4d, {a.genes[1], 4, 4, 3, 4}));
    for (int i = 0; i < a.genes[4]; ++i)
      n.blocks.push_back(BlockSpec::make(BlockKind::meta3d, {a.genes[1], 4, 4, 8, 32, 4, 4}));
    return n;
  };
  return std::make_unique<ToySpace>("slim", dims, repair, decode);
}

double MapLatencyPredictor::predict_ms(const Network& net) const {
  double ms = 0.0;
  for (const auto& b : net.blocks) {
    const auto it = table.find(b);
    if (it == table.end()) throw Error("latency table has no row for " + b.key());
    ms += it->second;
  }
  return ms;
}

std::shared_ptr<MapLatencyPredictor> make_synthetic_table(const ToySpace& space) {
  auto t = std::make_shared<MapLatencyPredictor>();
  for (const auto& a : space.enumerate())
    for (const auto& b : space.decode(a).blocks)
      if (!t->table.count(b))
        t->table[b] = 0.02 + static_cast<double>(block_cost(b).macs) * 1e-7 +
                      (b.kind == BlockKind::meta3d ? 0.3 : 0.0);
  return t;
}

std::vector<double> FunctionAccuracy::predict(const std::vector<Arch>& archs) {
  std::vector<double> out;
  for (const auto& a : archs) out.push_back(fn_(a));
  return out;
}

double synthetic_accuracy(const Arch& a) {
  const auto& g = a.genes;
  return 0.40 + 0.05 * std::log(g[0] / 16.0) + 0.06 * std::log(g[1] / 32.0) +
         0.08 * std::log(g[2] / 64.0) + 0.03 * std::sqrt(g[3]) + 0.04 * std::sqrt(g[4]) +
         0.05 * std::sqrt(g[5]) + 0.06 * (1.0 - std::exp(-0.7 * g[6]));
}

std::vector<double> OptimisticFirstLook::predict(const std::vector<Arch>& archs) {
  std::lock_guard lock(mutex_);
  std::vector<double> out;
  for (const Arch& a : archs) {
    double v = synthetic_accuracy(a);
    int sum = 0;
    for (int g : a.genes) sum += g;
    if (sum % 3 == 0 && asked_.insert(a.genes).second) {
      estimated_.insert(a.genes);
      v += 0.2;
    } else {
      estimated_.erase(a.genes);
    }
    out.push_back(v);
  }
  return out;
}

bool OptimisticFirstLook::estimated(const Arch& arch) const {
  std::lock_guard lock(mutex_);
  return estimated_.count(arch.genes) > 0;
}

}  // namespace hwnas::test
