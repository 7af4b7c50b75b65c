#include "evaluators/ops/depthwise_layer.h"

#include "core/error.h"
#include "evaluators/ops/depthwise_conv2d.h"
#include "evaluators/ops/layer_log.h"

namespace hwnas {

struct DepthwiseLayer::Impl {
  DepthwiseConv2dParams p;
  const float* weight = nullptr;
  const float* bias = nullptr;
  std::shared_ptr<DepthwiseSite> site;  // set while no forward runs (attach_site)
};

DepthwiseLayer::DepthwiseLayer(const DepthwiseConv2dParams& p, const float* weight,
                               const float* bias)
    : impl_(std::make_shared<Impl>()) {
  if (p.c < 1 || p.kernel < 1 || p.stride < 1 || p.pad < 0)
    throw Error("depthwise layer: channels, kernel and stride must be >= 1 and pad >= 0");
  if (!weight) throw Error("depthwise layer: no weights");
  impl_->p = p;
  impl_->weight = weight;
  impl_->bias = bias;
  LayerLog::record(*this);
}

const DepthwiseConv2dParams& DepthwiseLayer::params() const { return impl_->p; }
const float* DepthwiseLayer::weight() const { return impl_->weight; }
const float* DepthwiseLayer::bias() const { return impl_->bias; }

void DepthwiseLayer::attach_site(std::shared_ptr<DepthwiseSite> site) const {
  if (!impl_) throw Error("depthwise layer: cannot attach a site to an empty layer");
  impl_->site = std::move(site);
}

DepthwiseSite* DepthwiseLayer::site() const { return impl_ ? impl_->site.get() : nullptr; }

void DepthwiseLayer::forward(const Tensor& in, Tensor& out) const {
  if (DepthwiseSite* s = site(); s && s->run(*this, in, out)) return;
  depthwise_conv2d(impl_->p, in, impl_->weight, impl_->bias, out);
}

}  // namespace hwnas
