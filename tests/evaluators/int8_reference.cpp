#include "tests/evaluators/int8_reference.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "evaluators/engine/model.h"
#include "tests/support/test_support.h"

namespace hwnas::test {
namespace {
std::string int8_dir() { return test_data_dir() + "/int8/"; }
}  // namespace

QuantPlan reference_int8_plan(const std::string& stem) {
  const std::string path = int8_dir() + stem + ".plan.json";
  std::ifstream f(path);
  if (!f) throw Error("missing " + path + " (tools/hwnas_tools/fake_quant.py --write-golden)");
  return QuantPlan::from_json(nlohmann::json::parse(f));
}

NpyArray reference_int8_logits(const std::string& stem) {
  return read_npy(int8_dir() + stem + ".int8_logits.npy");
}

double logit_step(const NpyArray& logits) {
  const auto [lo, hi] = std::minmax_element(logits.data.begin(), logits.data.end());
  return (static_cast<double>(*hi) - *lo) / 255.0;
}

EngineLogits engine_logits(const Network& net, const WeightStore& weights, const QuantPlan& plan,
                           const Tensor& input) {
  Model model = Model::from_weights(net, weights);
  EngineLogits out{model.forward(input), {}};
  quantize_int8(model, plan);
  out.int8 = model.forward(input);
  return out;
}

double int8_rounding_sensitivity(const Network& net, const WeightStore& weights,
                                 const QuantPlan& plan, const Tensor& input) {
  QuantPlan nudged = plan;
  for (LayerQuant& layer : nudged.layers)
    for (float& s : layer.activations.scale) s *= 1.000001f;
  for (DepthwiseLayerQuant& layer : nudged.depthwise)
    for (float& s : layer.activations.scale) s *= 1.000001f;
  Model a = Model::from_weights(net, weights), b = Model::from_weights(net, weights);
  quantize_int8(a, plan);
  quantize_int8(b, nudged);
  const Tensor ya = a.forward(input), yb = b.forward(input);
  double d = 0;
  for (std::size_t i = 0; i < ya.size(); ++i)
    d = std::max(d, std::fabs(static_cast<double>(ya.data()[i]) - yb.data()[i]));
  return d;
}

}  // namespace hwnas::test
