#include "results/onnx/onnx_lowering.h"

#include <deque>
#include <mutex>

#include "core/error.h"

namespace hwnas::onnx_export {
namespace {

OnnxLowering builtin(std::string family,
                     std::string (*lower)(GraphBuilder&, const BlockSpec&, const std::string&,
                                          const std::string&)) {
  return OnnxLowering{std::move(family), lower,
                      [](const BlockSpec& s) { return input_layout(s.kind); },
                      [](const BlockSpec& s) { return output_layout(s.kind); }};
}

// A deque keeps each record at one address while others are added.
struct Registry {
  std::mutex mutex;
  std::deque<OnnxLowering> lowerings{builtin("efficientformer", &lower_efficientformer),
                                     builtin("elasticvit", &lower_elasticvit),
                                     builtin("hiera", &lower_hiera)};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_onnx_lowering(OnnxLowering lowering) {
  if (lowering.family.empty() || !lowering.lower || !lowering.input_layout ||
      !lowering.output_layout)
    throw Error("register_onnx_lowering: a lowering needs a family, lower and both layouts");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& l : r.lowerings)
    if (l.family == lowering.family)
      throw Error("register_onnx_lowering: model family '" + lowering.family +
                  "' already has an ONNX lowering");
  r.lowerings.push_back(std::move(lowering));
}

const OnnxLowering& onnx_lowering(std::string_view family) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& l : r.lowerings)
    if (l.family == family) return l;
  throw Error("ONNX export: model family '" + std::string(family) +
              "' has no ONNX lowering (register_onnx_lowering)");
}

}  // namespace hwnas::onnx_export
