// Row-wise softmax (max-subtracted, so logits in the 90-100 range do not overflow).
#pragma once

namespace hwnas {

/// In place over `rows` rows of `cols` floats with leading dimension ld (row r at x + r * ld;
/// the floats between cols and ld are left untouched). Eigen's packet exp, about 1 ulp from
/// expf; the result is bit-identical for equal logits at any address. Never throws.
void softmax_rows(float* x, int rows, int cols, int ld);
/// Double precision reference.
void softmax_rows_reference(float* x, int rows, int cols, int ld);

}  // namespace hwnas
