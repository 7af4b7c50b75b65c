#include "spaces/precision_genes.h"

#include <algorithm>

#include "core/error.h"

namespace hwnas {
namespace {

constexpr int kInt8 = 8, kFp32 = 32;

class PrecisionGeneSpace final : public SearchSpace {
 public:
  explicit PrecisionGeneSpace(const SearchSpace& base)
      : base_(base),
        name_(base.name() + std::string(kPrecisionGeneSuffix)),
        summary_(base.summary() +
                 " With one precision gene per stage (fp32 or int8 GEMM layers; "
                 "resolution_stages in spaces/precision_genes.h)."),
        base_genes_(base.dims().size()) {
    const std::vector<int> stages = resolution_stages(base.decode(base.largest()));
    stages_ = stages.empty() ? 0 : stages.back() + 1;
    dims_ = base.dims();
    for (int s = 0; s < stages_; ++s) dims_.push_back({"precision" + std::to_string(s), {8, 32}});
    for (const auto& [member, arch] : base.named()) named_.emplace_back(member, with_genes(arch));
  }

  const SearchSpace& base() const { return base_; }
  int stages() const { return stages_; }

  Arch strip(const Arch& arch) const {
    if (arch.genes.size() < base_genes_)
      throw Error("arch of space '" + name_ + "' has " + std::to_string(arch.genes.size()) +
                  " genes, fewer than the " + std::to_string(base_genes_) + " of space '" +
                  base_.name() + "'");
    return Arch{base_.name(), {arch.genes.begin(), arch.genes.begin() + base_genes_}};
  }

  const std::string& name() const override { return name_; }
  const std::string& summary() const override { return summary_; }
  const std::vector<Dim>& dims() const override { return dims_; }

  Arch sample(Rng& rng) const override {
    Arch out = with_genes(base_.sample(rng));
    for (int s = 0; s < stages_; ++s) out.genes[base_genes_ + s] = (rng() & 1u) ? kInt8 : kFp32;
    return out;
  }
  Arch mutate(const Arch& arch, Rng& rng, double prob) const override {
    Arch out = with_precision(base_.mutate(strip(arch), rng, prob), arch);
    for (int s = 0; s < stages_; ++s) {
      int& g = out.genes[base_genes_ + s];
      if (uniform_real(rng) < prob) g = g == kInt8 ? kFp32 : kInt8;
    }
    return out;
  }
  Arch crossover(const Arch& a, const Arch& b, Rng& rng) const override {
    Arch out = with_precision(base_.crossover(strip(a), strip(b), rng), a);
    for (int s = 0; s < stages_; ++s)
      if (rng() & 1u) out.genes[base_genes_ + s] = b.genes.at(base_genes_ + s);
    return out;
  }
  void repair(Arch& arch) const override { arch = with_precision(repaired(strip(arch)), arch); }

  Network decode(const Arch& arch) const override {
    validate(arch);
    Network net = base_.decode(strip(arch));
    const std::vector<int> stage = resolution_stages(net);
    if (stage.empty() || stage.back() + 1 != stages_)
      throw Error("space '" + name_ + "': an arch decodes to " +
                  std::to_string(stage.empty() ? 0 : stage.back() + 1) + " stages, not the " +
                  std::to_string(stages_) + " its precision genes cover");
    net.block_int8.resize(net.blocks.size());
    for (std::size_t i = 0; i < stage.size(); ++i)
      net.block_int8[i] = arch.genes[base_genes_ + static_cast<std::size_t>(stage[i])] == kInt8;
    return net;
  }
  void validate(const Arch& arch) const override {
    if (arch.genes.size() != dims_.size())
      throw Error("arch of space '" + name_ + "' has " + std::to_string(arch.genes.size()) +
                  " genes; the space has " + std::to_string(dims_.size()) + " (" +
                  std::to_string(base_genes_) + " of '" + base_.name() + "' and " +
                  std::to_string(stages_) + " precision genes)");
    base_.validate(strip(arch));
    for (int s = 0; s < stages_; ++s) {
      const int g = arch.genes[base_genes_ + s];
      if (g != kInt8 && g != kFp32)
        throw Error("space '" + name_ + "': precision" + std::to_string(s) + " is " +
                    std::to_string(g) + "; legal values are 8 (int8) and 32 (fp32)");
    }
  }
  std::vector<BlockSpec> enumerate_blocks(int resolution) const override {
    return base_.enumerate_blocks(resolution);
  }
  const std::vector<std::pair<std::string, Arch>>& named() const override { return named_; }
  Arch largest() const override { return with_genes(base_.largest()); }
  Arch smallest() const override {
    Arch out = with_genes(base_.smallest());
    std::fill(out.genes.begin() + static_cast<std::ptrdiff_t>(base_genes_), out.genes.end(), kInt8);
    return out;
  }

  nlohmann::json to_json(const Arch& arch) const override {
    validate(arch);
    nlohmann::json j = base_.to_json(strip(arch));
    j["space"] = name_;
    j["precision"] = precision_names(arch);
    return j;
  }
  Arch from_json(const nlohmann::json& j) const override {
    if (!j.is_object() || !j.contains("precision"))
      throw Error("arch JSON of space '" + name_ + "' needs a \"precision\" list of " +
                  std::to_string(stages_) + " stages, each \"fp32\" or \"int8\"");
    const nlohmann::json& p = j.at("precision");
    if (!p.is_array() || p.size() != static_cast<std::size_t>(stages_))
      throw Error("arch JSON key \"precision\" must list " + std::to_string(stages_) +
                  " stages of space '" + name_ + "', each \"fp32\" or \"int8\"");
    nlohmann::json rest = j;
    rest.erase("precision");
    if (rest.contains("space")) rest["space"] = base_.name();
    Arch out = with_genes(base_.from_json(rest));
    for (int s = 0; s < stages_; ++s) {
      const nlohmann::json& v = p[static_cast<std::size_t>(s)];
      if (v != "fp32" && v != "int8")
        throw Error("arch JSON key \"precision\"[" + std::to_string(s) + "] is " + v.dump() +
                    "; use \"fp32\" or \"int8\"");
      out.genes[base_genes_ + s] = v == "int8" ? kInt8 : kFp32;
    }
    if (j.contains("space") && j.at("space") != name_ && j.at("space") != base_.name())
      throw Error("arch JSON key \"space\" is " + j.at("space").dump() + ", not \"" + name_ + "\"");
    return out;
  }
  nlohmann::json export_config(const Arch& arch) const override {
    nlohmann::json j = base_.export_config(strip(arch));
    j["precision"] = precision_names(arch);
    return j;
  }
  nlohmann::json extra_metrics(const Arch& arch) const override {
    return base_.extra_metrics(strip(arch));
  }

 private:
  // The base arch, all stages fp32.
  Arch with_genes(const Arch& base_arch) const {
    Arch out{name_, base_arch.genes};
    out.genes.resize(base_genes_ + static_cast<std::size_t>(stages_), kFp32);
    return out;
  }
  // The base arch with the precision genes of `from`.
  Arch with_precision(const Arch& base_arch, const Arch& from) const {
    Arch out = with_genes(base_arch);
    std::copy(from.genes.begin() + static_cast<std::ptrdiff_t>(base_genes_), from.genes.end(),
              out.genes.begin() + static_cast<std::ptrdiff_t>(base_genes_));
    return out;
  }
  Arch repaired(Arch a) const {
    base_.repair(a);
    return a;
  }
  nlohmann::json precision_names(const Arch& arch) const {
    nlohmann::json out = nlohmann::json::array();
    for (int s = 0; s < stages_; ++s)
      out.push_back(arch.genes.at(base_genes_ + s) == kInt8 ? "int8" : "fp32");
    return out;
  }

  const SearchSpace& base_;
  std::string name_, summary_;
  std::size_t base_genes_;
  int stages_ = 0;
  std::vector<Dim> dims_;
  std::vector<std::pair<std::string, Arch>> named_;
};

}  // namespace

std::vector<int> resolution_stages(const Network& net) {
  std::vector<int> stage(net.blocks.size(), 0);
  for (std::size_t i = 1; i < net.blocks.size(); ++i) {
    const FeatureShape prev = block_output_shape(net.blocks[i - 1]);
    const FeatureShape out = block_output_shape(net.blocks[i]);
    const bool classifier = i + 1 == net.blocks.size() && out.h == 1 && out.w == 1;
    stage[i] = stage[i - 1] + (!classifier && out.h * out.w < prev.h * prev.w ? 1 : 0);
  }
  return stage;
}

std::unique_ptr<SearchSpace> make_precision_gene_space(const SearchSpace& base) {
  if (dynamic_cast<const PrecisionGeneSpace*>(&base))
    throw Error("space '" + base.name() + "' already has precision genes");
  return std::make_unique<PrecisionGeneSpace>(base);
}

const SearchSpace& base_space(const SearchSpace& space) {
  const auto* p = dynamic_cast<const PrecisionGeneSpace*>(&space);
  return p ? p->base() : space;
}

Arch base_arch(const SearchSpace& space, const Arch& arch) {
  const auto* p = dynamic_cast<const PrecisionGeneSpace*>(&space);
  return p ? p->strip(arch) : arch;
}

int precision_stages(const SearchSpace& space) {
  const auto* p = dynamic_cast<const PrecisionGeneSpace*>(&space);
  return p ? p->stages() : 0;
}

}  // namespace hwnas
