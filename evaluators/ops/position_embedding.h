// Learned absolute position embedding added to every image of a batch (ViT; Hiera's pos_embed,
// timm hiera.py: x + pos_embed with pos_embed (1, h*w, c) in row-major token order).
#pragma once

#include "evaluators/engine/tensor.h"

namespace hwnas {

/// out(b,y,x,c) = in(b,y,x,c) + pos[(y*w + x)*C + c]: pos holds h*w*C floats (one C-vector per
/// token, row-major, shared by the batch). in/out (B,h,w,c) of one shape; out may alias in.
/// Throws hwnas::Error on a shape mismatch.
void add_position_embedding(const Tensor& in, const float* pos, Tensor& out);
/// Double arithmetic.
void add_position_embedding_reference(const Tensor& in, const float* pos, Tensor& out);

}  // namespace hwnas
