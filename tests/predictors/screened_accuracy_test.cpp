// Online pre-screening: which archs reach the expensive source, what the others get, and the
// held-out rank correlation, on an accuracy that is additive in the genes (the ridge surrogate's
// own model class, so its estimates can be checked by hand).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "predictors/screened_accuracy.h"
#include "spaces/registry.h"

namespace hwnas {
namespace {

// The expensive source: an additive function of the genes, counting its calls.
class AdditiveAccuracy final : public AccuracyPredictor {
 public:
  std::vector<double> predict(const std::vector<Arch>& archs) override {
    std::vector<double> out;
    for (const Arch& a : archs) out.push_back(value(a));
    evaluated += static_cast<int>(archs.size());
    return out;
  }
  static double value(const Arch& a) {
    double v = 0.5;
    for (std::size_t g = 0; g < a.genes.size(); ++g) v += 0.001 * (g + 1) * a.genes[g];
    return v;
  }
  std::string source() const override { return "additive"; }
  std::size_t samples(const Arch&) override { return 500; }  // as if scored on 500 images
  int evaluated = 0;
};

std::vector<Arch> batch(const SearchSpace& space, Rng& rng, int n) {
  std::vector<Arch> out;
  for (int i = 0; i < n; ++i) out.push_back(space.sample(rng));
  return out;
}

TEST(ScreenedAccuracy, EvaluatesTheBestHalfAfterWarmupAndEstimatesTheRest) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  auto inner = std::make_shared<AdditiveAccuracy>();
  ScreeningOptions o;
  o.warmup = 60;
  o.keep_fraction = 0.5;
  o.ridge_lambda = 1e-3;
  ScreenedAccuracy screened(space, inner, o);
  Rng rng(7);
  // Warm-up: everything is evaluated for real.
  for (int i = 0; i < 3; ++i) {
    const auto archs = batch(space, rng, 20);
    const auto got = screened.predict(archs);
    for (std::size_t k = 0; k < archs.size(); ++k)
      EXPECT_EQ(got[k], AdditiveAccuracy::value(archs[k]));
  }
  EXPECT_EQ(inner->evaluated, 60);
  std::vector<Arch> last;
  // Screening: 10 of 20 per batch; the evaluated ones are the truly best (the surrogate is
  // exact up to the ridge penalty on this additive function); the rest are estimates.
  for (int i = 0; i < 4; ++i) {
    const auto archs = batch(space, rng, 20);
    const int before = inner->evaluated;
    const auto got = screened.predict(archs);
    EXPECT_EQ(inner->evaluated - before, 10);
    std::vector<double> truth;
    for (const Arch& a : archs) truth.push_back(AdditiveAccuracy::value(a));
    std::vector<double> sorted = truth;
    std::sort(sorted.rbegin(), sorted.rend());
    int exact = 0;
    for (std::size_t k = 0; k < archs.size(); ++k) {
      EXPECT_NEAR(got[k], truth[k], 5e-3);
      EXPECT_EQ(screened.estimated(archs[k]), got[k] != truth[k]);
      // An estimate is no proportion over images: it has no count, hence no interval.
      EXPECT_EQ(screened.samples(archs[k]), got[k] != truth[k] ? 0u : 500u);
      if (got[k] == truth[k]) {
        ++exact;
        EXPECT_GE(truth[k], sorted[10] - 1e-3);  // among the top half (ties within the error)
      }
    }
    EXPECT_GE(exact, 10);
    last = archs;
  }
  // Asked again (a search confirming its front), estimated archs are evaluated for real, even
  // in a batch where the surrogate would keep only half.
  std::vector<Arch> again;
  for (const Arch& a : last)
    if (screened.estimated(a)) again.push_back(a);
  ASSERT_EQ(again.size(), 10u);
  const int before = inner->evaluated;
  const auto confirmed = screened.predict(again);
  EXPECT_EQ(inner->evaluated - before, 10);
  for (std::size_t k = 0; k < again.size(); ++k) {
    EXPECT_EQ(confirmed[k], AdditiveAccuracy::value(again[k]));
    EXPECT_FALSE(screened.estimated(again[k]));
  }
  const ScreeningStats st = screened.stats();
  EXPECT_EQ(st.asked, 150);
  EXPECT_EQ(st.evaluated, 110);
  EXPECT_EQ(st.screened, 40);
  EXPECT_EQ(st.heldout_pairs, 50);
  EXPECT_GT(st.heldout_kendall_tau, 0.9);
}

TEST(ScreenedAccuracy, KeepFractionOutsideRangeIsAClearError) {
  const SearchSpace& space = get_space("efficientformer-fmnist");
  auto inner = std::make_shared<AdditiveAccuracy>();
  ScreeningOptions o;
  o.keep_fraction = 0;
  EXPECT_THROW(ScreenedAccuracy(space, inner, o), Error);
  o.keep_fraction = 1.5;
  EXPECT_THROW(ScreenedAccuracy(space, inner, o), Error);
}

}  // namespace
}  // namespace hwnas
