// Wilson score intervals against the published examples of Newcombe (1998), Statistics in
// Medicine 17(8):857-872, Table I, method 3 (score interval without continuity correction).
#include "predictors/accuracy_interval.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace hwnas {
namespace {

struct Published {
  std::size_t hits, n;
  double lo, hi;  // as printed: four decimals
};

TEST(AccuracyInterval, WilsonMatchesNewcombesTable) {
  const Published rows[] = {{81, 263, 0.2553, 0.3662},
                            {15, 148, 0.0624, 0.1605},
                            {0, 20, 0.0, 0.1611},
                            {1, 29, 0.0061, 0.1718}};
  for (const auto& r : rows) {
    const AccuracyInterval ci = wilson_interval(double(r.hits) / double(r.n), r.n);
    EXPECT_NEAR(ci.lo, r.lo, 5e-5) << r.hits << "/" << r.n;
    EXPECT_NEAR(ci.hi, r.hi, 5e-5) << r.hits << "/" << r.n;
  }
}

TEST(AccuracyInterval, ShrinksLikeOneOverRootN) {
  // At 84 % on 1,000 images the half-width is about 2.3 points (the issue's "about +-1.2
  // points" is one standard error); on 5,000 images sqrt(5) times narrower.
  const AccuracyInterval a = wilson_interval(0.84, 1000), b = wilson_interval(0.84, 5000);
  EXPECT_NEAR((a.hi - a.lo) / 2, kZ95 * std::sqrt(0.84 * 0.16 / 1000), 2e-4);
  EXPECT_NEAR((a.hi - a.lo) / (b.hi - b.lo), std::sqrt(5.0), 0.01);
  EXPECT_LT(a.lo, 0.84);
  EXPECT_GT(a.hi, 0.84);
}

TEST(AccuracyInterval, StaysInsideTheUnitInterval) {
  const AccuracyInterval all = wilson_interval(1.0, 50);
  EXPECT_DOUBLE_EQ(all.hi, 1.0);
  EXPECT_NEAR(all.lo, 50.0 / (50.0 + kZ95 * kZ95), 1e-12);  // n / (n + z^2) at p = 1
}

TEST(AccuracyInterval, RejectsWhatIsNotAProportion) {
  EXPECT_THROW(wilson_interval(0.5, 0), Error);
  EXPECT_THROW(wilson_interval(1.2, 10), Error);
  EXPECT_THROW(wilson_interval(NAN, 10), Error);
  EXPECT_THROW(wilson_interval(0.5, 10, 0.0), Error);
}

}  // namespace
}  // namespace hwnas
