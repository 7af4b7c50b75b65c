// The uncertainty of an accuracy measured on a finite set of held-out images.
#pragma once

#include <cstddef>

namespace hwnas {

/// Two-sided 95 % normal quantile, z = Phi^-1(0.975).
inline constexpr double kZ95 = 1.959963984540054;

/// A confidence interval of a proportion (top-1 or top-5 as a fraction in [0, 1]).
struct AccuracyInterval {
  double lo = 0;
  double hi = 1;
};

/// Wilson score interval of a proportion `fraction` observed on `samples` independent images,
/// at normal quantile `z` (kZ95: 95 %). Wilson (1927), JASA 22(158); method 3 of Newcombe (1998),
/// Statistics in Medicine 17(8), without continuity correction. Unlike the normal (Wald)
/// interval it stays inside [0, 1] and keeps its coverage near 0 and 1, where top-5 sits. Top-1
/// and top-5 are both per-image hits, so the same interval serves both. Throws hwnas::Error for
/// samples == 0, a fraction outside [0, 1] (or NaN), or z <= 0.
AccuracyInterval wilson_interval(double fraction, std::size_t samples, double z = kZ95);

}  // namespace hwnas
