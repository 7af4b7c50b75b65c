#include "predictors/accuracy_interval.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace hwnas {

AccuracyInterval wilson_interval(double fraction, std::size_t samples, double z) {
  if (samples == 0) throw Error("wilson_interval: no samples: an accuracy needs >= 1 image");
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw Error("wilson_interval: accuracy " + std::to_string(fraction) +
                " is not a fraction in [0, 1]");
  if (!(z > 0.0)) throw Error("wilson_interval: the normal quantile must be > 0");
  const double n = static_cast<double>(samples);
  const double z2n = z * z / n;
  const double centre = (fraction + z2n / 2) / (1 + z2n);
  const double half = z / (1 + z2n) * std::sqrt(fraction * (1 - fraction) / n + z2n / (4 * n));
  // Rounding can push the bounds a few ulps past [0, 1] at fraction 0 or 1.
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

}  // namespace hwnas
