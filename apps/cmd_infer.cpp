// `hwnas infer`: logits of one architecture with trained weights on an input batch.
#include <iostream>

#include "apps/command.h"
#include "apps/common.h"
#include "core/error.h"
#include "evaluators/engine/model.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

class InferCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    add_space_option(app, space_);
    add_arch_option(app, arch_);
    app.add_option("--weights", weights_,
                   "safetensors file with the reference code's parameter names (timm; "
                   "microsoft/Moonlit for elasticvit), F32 or F16")
        ->required();
    app.add_option("--input", input_, "input .npy, float32 (B, 3, H, W) NCHW as PyTorch writes it")
        ->required();
    app.add_option("--output", output_, "output .npy: logits float32 (B, classes)")->required();
    app.add_option("--threads", threads_, "engine threads")->capture_default_str();
  }

  int run() override {
    const SearchSpace& space = get_space(space_);
    const Network net = space.decode(space.resolve(arch_));
    const NpyArray in = read_npy(input_);
    const auto& s = in.shape;
    if (s.size() != 4 || s[1] != net.input.c || s[2] != net.input.h || s[3] != net.input.w ||
        s[0] < 1)
      throw Error("input '" + input_ + "' must be float32 (B, " + std::to_string(net.input.c) +
                  ", " + std::to_string(net.input.h) + ", " + std::to_string(net.input.w) +
                  ") NCHW for this arch");
    ThreadScope scope(threads_);
    Model model = Model::from_weights(net, load_safetensors(weights_));
    const int b = static_cast<int>(s[0]), c = net.input.c, h = net.input.h, w = net.input.w;
    Tensor x(b, h, w, c);
    for (int n = 0; n < b; ++n)
      for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < h; ++y)
          for (int xx = 0; xx < w; ++xx)
            x.at(n, y, xx, ch) = in.data[((static_cast<std::size_t>(n) * c + ch) * h + y) * w + xx];
    const Tensor logits = model.forward(x);
    NpyArray out{{b, logits.c()}, std::vector<float>(logits.data(), logits.data() + logits.size())};
    write_npy(output_, out);
    std::cerr << "wrote logits (" << b << ", " << logits.c() << ") to " << output_ << "\n";
    return 0;
  }

 private:
  std::string space_, arch_, weights_, input_, output_;
  int threads_ = 2;
};

HWNAS_REGISTER_COMMAND(InferCommand, "infer",
                       "Run an architecture with trained weights on an input .npy");

}  // namespace
}  // namespace hwnas::apps
