// Row-wise softmax (max-subtracted, so logits in the 90-100 range do not overflow).
#pragma once

namespace hwnas {

/// In place over `rows` rows of `cols` floats with leading dimension ld.
void softmax_rows(float* x, int rows, int cols, int ld);
/// Double precision reference.
void softmax_rows_reference(float* x, int rows, int cols, int ld);

}  // namespace hwnas
