// `mpirun -n N hwnas search` against the one-process run of the same command: the same
// front.json (but for "ranks" and timings) and run.db on 1, 2 and 3 ranks, with external and
// supernet accuracy; refusals and a worker's error; and runs SIGKILLed mid-generation (a worker
// rank of a 3-rank job, a plain process) that resume on another rank count to the
// uninterrupted front without running a finished evaluation twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "results/run_data.h"
#include "results/run_store.h"
#include "tests/distributed/mpi_support.h"
#include "tests/support/synthetic_table.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

namespace fs = std::filesystem;

test::CommandResult run(int ranks, const std::string& args) { return test::run_hwnas(ranks, args); }

// front.json without what may differ by design: the rank count, a resumed run's flag, and
// timings.
nlohmann::json front(const std::string& out) {
  std::ifstream in(out + "/front.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j.erase("ranks");
  j.erase("resumed");
  if (j.contains("supernet_evaluation")) j["supernet_evaluation"].erase("seconds");
  return j;
}

std::size_t lines(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

class MpiSearch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("hwnas-mpi-search"));
    test::write_synthetic_table(*dir_ + "/t.db", "testdev", "efficientformer-fmnist", 64);
    // A deterministic external trainer: accuracy from the arch's numbers; an error for archs
    // whose first width is 24 with the argument `fail` (about one in three), and for the rarer
    // ones of first width 32 and third depth 3 an error with `rare` and a 30 s hang with `hang`
    // (the space's smallest and largest archs, the hypervolume bounds, are not among them). From
    // the environment (so that the command, which front.json records, stays the same): $ACC_SLEEP
    // seconds per answer, and each answer's arch appended to the file $ACC_CALLS, so a test counts
    // the evaluations that really ran.
    std::ofstream(*dir_ + "/acc.py") << R"(import json, math, os, sys, time
mode = sys.argv[1]
sleep, calls = float(os.environ.get("ACC_SLEEP", "0")), os.environ.get("ACC_CALLS", "/dev/null")
for line in sys.stdin:
    r = json.loads(line)
    a = r["arch"]
    time.sleep(sleep)
    with open(calls, "a") as f:
        f.write(json.dumps(a) + "\n")
    rare = a["embed_dims"][0] == 32 and a["depths"][2] == 3
    if mode == "hang" and rare:
        time.sleep(30)
    if (mode == "fail" and a["embed_dims"][0] == 24) or (mode == "rare" and rare):
        print(json.dumps({"id": r["id"], "error": "no GPU for this width"}), flush=True)
        continue
    s = sum(math.sqrt(v) for v in a["embed_dims"] + a["depths"]) + a["num_vit"]
    print(json.dumps({"id": r["id"], "accuracy": 0.5 + (s % 7) / 20}), flush=True)
)";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // `mode`: ok, fail, rare or hang (acc.py above).
  static std::string external(const std::string& mode = "ok") {
    return "--accuracy 'external:python3 -u " + *dir_ + "/acc.py " + mode + "' ";
  }
  static std::string common() {
    return "search --space efficientformer-fmnist --db " + *dir_ +
           "/t.db --device testdev --population 8 --seed 5 --threads 1 ";
  }

  // Runs `args` (ending in --out `out`) on `ranks` (0: plain), SIGKILLs the hwnas process of
  // rank `victim` (-1: the plain one) once `after` evaluations have run, and checks that
  // `--resume` on `resume_ranks` ends with the front of `full`. With `logged` (a killed MPI
  // job: rank 0 logs each answer as it arrives) no finished evaluation runs again: only those
  // the kill interrupted, at most one per worker rank.
  static void kill_and_resume(int ranks, int victim, int resume_ranks, const std::string& name,
                              std::size_t after, const std::string& full, bool logged) {
    const std::string out = *dir_ + "/" + name, calls = out + ".calls";
    const std::string args = common() + external() + "--budget 48 --out " + out;
    // Open MPI passes the launching environment on to every rank.
    const test::ScopedEnv slow("ACC_SLEEP", "0.1"), log("ACC_CALLS", calls);
    std::thread job([&] { run(ranks, args); });
    std::size_t at_kill = 0;
    for (int i = 0; i < 1200 && at_kill == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (lines(calls) < after) continue;
      const int pid = test::hwnas_pid(victim, out);
      if (pid > 0 && ::kill(pid, SIGKILL) == 0) at_kill = lines(calls);
    }
    job.join();
    ASSERT_GT(at_kill, 0u) << "the victim was never found running";
    const std::size_t ran = lines(calls);
    ASSERT_LT(ran, 48u) << "the job finished before the kill: nothing was tested";
    const auto r = run(resume_ranks, "search --resume --threads 1 --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(front(out), front(full));
    // Every unique arch ran once, plus those the kill cut short (one per working rank).
    const std::size_t total = lines(calls);
    std::cout << "[ kill     ] " << name << ": killed after " << at_kill
              << " evaluations, resumed on " << resume_ranks << " ranks, " << total
              << " evaluations in all for 48 unique archs\n";
    if (logged) {
      EXPECT_LE(total, 48u + static_cast<std::size_t>(ranks - 1)) << r.out;
    }
  }

  static std::string* dir_;
};

std::string* MpiSearch::dir_ = nullptr;

TEST_F(MpiSearch, ExternalAccuracyGivesTheOneProcessFrontOnOneTwoAndThreeRanks) {
  const std::string args = common() + external() + "--budget 40 --out " + *dir_ + "/ext";
  const auto one = run(0, args + "0");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const nlohmann::json want = front(*dir_ + "/ext0");
  ASSERT_GE(want["members"].size(), 2u);
  for (int ranks : {1, 2, 3}) {
    const std::string out = *dir_ + "/ext" + std::to_string(ranks) + "r";
    const auto r = run(ranks, args + std::to_string(ranks) + "r");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(front(out), want) << ranks << " ranks";
    std::ifstream in(out + "/front.json");
    EXPECT_EQ(nlohmann::json::parse(in)["ranks"], ranks);
    if (ranks > 1) {  // the summary names each working rank's share
      EXPECT_NE(r.out.find("rank 1: "), std::string::npos) << r.out;
    }
    // run.db holds the same evaluations in the same order.
    const RunData a = load_run(*dir_ + "/ext0"), b = load_run(out);
    ASSERT_EQ(a.evaluations.size(), b.evaluations.size());
    for (std::size_t i = 0; i < a.evaluations.size(); ++i) {
      EXPECT_EQ(a.evaluations[i].arch, b.evaluations[i].arch) << i;
      EXPECT_EQ(a.evaluations[i].objectives, b.evaluations[i].objectives) << i;
    }
  }
}

TEST_F(MpiSearch, SupernetAccuracyGivesTheOneProcessFrontOnTwoAndThreeRanks) {
  const std::string args =
      common() +
      "--accuracy supernet:" HWNAS_SOURCE_DIR
      "/data/supernets/efficientformer-fmnist.safetensors "
      "--accuracy-samples 200 --final-samples 300 --measure-threads 1 --budget 16 "
      // One process screens a supernet search by default; mpirun cannot (--prescreen).
      "--prescreen 1 --out " +
      *dir_ + "/sup";
  const auto one = run(0, args + "0");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const nlohmann::json want = front(*dir_ + "/sup0");
  // 16 archived archs, and the named member m scored as a reference point (s and l are the
  // archived bounds pair; the final re-scoring is counted apart, on the root).
  EXPECT_EQ(want["supernet_evaluation"]["evaluations"], 17);
  for (int ranks : {2, 3}) {
    const auto r = run(ranks, args + std::to_string(ranks));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(front(*dir_ + "/sup" + std::to_string(ranks)), want) << ranks << " ranks";
  }
}

TEST_F(MpiSearch, StatefulSettingsAreRefusedAndAWorkersErrorNamesItsRank) {
  const auto pre = run(
      2, common() + "--accuracy supernet:x.safetensors --prescreen 0.5 --out " + *dir_ + "/pre");
  EXPECT_NE(pre.exit_code, 0);
  EXPECT_NE(pre.err.find("--prescreen 0.5"), std::string::npos) << pre.err;
  const auto fill = run(2, common() + "--fill --out " + *dir_ + "/fill");
  EXPECT_NE(fill.exit_code, 0);
  EXPECT_NE(fill.err.find("--fill cannot run under mpirun"), std::string::npos) << fill.err;
  // One arch in three fails: past --max-failures 3 the run stops, naming the last failure's
  // rank and reason, with every evaluation so far in run.db.
  const auto bad =
      run(3, common() + external("fail") + "--budget 40 --max-failures 3 --out " + *dir_ + "/bad");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no GPU for this width"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("rank "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("more than --max-failures 3"), std::string::npos) << bad.err;
  std::size_t failed = 0;
  for (const auto& e : RunStore(*dir_ + "/bad/run.db", /*create=*/false).evaluations())
    failed += !e.failure.empty();
  EXPECT_GE(failed, 4u);
}

// The archs acc.py fails on (`rare`, `hang`), by its rule.
bool rare_arch(const nlohmann::json& arch) {
  return arch["embed_dims"][0] == 32 && arch["depths"][2] == 3;
}

// Checks the run in `out`: `budget` evaluations, exactly the rare archs failed (with a reason
// holding `why`), none on the front, and front.json counting them.
void expect_rare_failures(const std::string& out, std::size_t budget, const std::string& why) {
  const RunData run_data = load_run(out);
  ASSERT_EQ(run_data.evaluations.size(), budget);
  std::size_t failed = 0;
  for (const auto& e : run_data.evaluations) {
    EXPECT_EQ(!e.failure.empty(), rare_arch(e.arch)) << e.arch.dump() << ": " << e.failure;
    if (e.failure.empty()) continue;
    ++failed;
    EXPECT_NE(e.failure.find(why), std::string::npos) << e.failure;
    EXPECT_FALSE(run_data.on_front(e));
  }
  EXPECT_GE(failed, 1u) << "no arch of the rule was asked: nothing was tested";
  EXPECT_EQ(run_data.front["failed_evaluations"], failed);
}

TEST_F(MpiSearch, FailedEvaluationsAreRecordedAndTheFrontIsTheSameOnEveryRankCount) {
  const std::string args = common() + external("rare") + "--budget 40 --out " + *dir_ + "/rare";
  const auto one = run(0, args + "0");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  expect_rare_failures(*dir_ + "/rare0", 40, "no GPU for this width");
  EXPECT_NE(one.out.find("failed evaluations: "), std::string::npos) << one.out;
  // The exports carry the reasons and leave the failed archs out of the chart and the report.
  const std::string csv = *dir_ + "/rare0.csv";
  ASSERT_EQ(run(0, "export --run " + *dir_ + "/rare0 --format csv --out " + csv).exit_code, 0);
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  EXPECT_EQ(header.substr(header.rfind(',')), ",failure") << header;
  std::size_t reasons = 0;
  while (std::getline(in, row)) reasons += row.find("no GPU for this width") != std::string::npos;
  EXPECT_EQ(reasons, load_run(*dir_ + "/rare0").front["failed_evaluations"].get<std::size_t>());
  for (const char* fmt : {"svg", "html"}) {
    const auto r = run(0, std::string("export --run ") + *dir_ + "/rare0 --format " + fmt +
                              " --out " + *dir_ + "/rare0." + fmt);
    EXPECT_EQ(r.exit_code, 0) << fmt << ": " << r.err;
  }
  for (int ranks : {2, 3}) {
    const std::string out = *dir_ + "/rare" + std::to_string(ranks);
    const auto r = run(ranks, args + std::to_string(ranks));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(front(out), front(*dir_ + "/rare0")) << ranks << " ranks";
    expect_rare_failures(out, 40, "no GPU for this width");
  }
}

TEST_F(MpiSearch, AHungEvaluationFailsAtTheTimeoutAndTheRunGoesOn) {
  // Each rank's external: command is stopped at --eval-timeout, so the rank reports a failed
  // evaluation and keeps working; one process does the same.
  const std::string args = common() + external("hang") + "--budget 40 --eval-timeout 2 --out ";
  const auto t0 = std::chrono::steady_clock::now();
  const auto job = run(3, args + *dir_ + "/hang3");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(job.exit_code, 0) << job.err;
  expect_rare_failures(*dir_ + "/hang3", 40, "did not answer within 2");
  EXPECT_LT(waited, 60.0) << "the job waited for a hung evaluation";
  const auto plain = run(0, args + *dir_ + "/hang0");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  expect_rare_failures(*dir_ + "/hang0", 40, "did not answer within 2");
  EXPECT_EQ(front(*dir_ + "/hang3"), front(*dir_ + "/hang0"));
}

TEST_F(MpiSearch, AWorkerRankThatStopsAnsweringIsRetiredAndTheRunFinishes) {
  // SIGSTOP freezes rank 2 mid-run, as a hung node would: past --eval-timeout (+5 s grace) its
  // evaluation fails, rank 1 does the rest, and the job ends once the outputs are written.
  const std::string out = *dir_ + "/frozen", calls = out + ".calls";
  // 0.3 s per answer: 40 evaluations on 2 workers take about 6 s, so the stop lands mid-run.
  const test::ScopedEnv slow("ACC_SLEEP", "0.3"), log("ACC_CALLS", calls);
  test::CommandResult job;
  std::thread runner(
      [&] { job = run(3, common() + external() + "--budget 40 --eval-timeout 1 --out " + out); });
  int frozen = -1;
  std::size_t at_stop = 0;
  for (int i = 0; i < 1500 && frozen < 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (lines(calls) < 10) continue;
    const int pid = test::hwnas_pid(2, out);
    if (pid > 0 && ::kill(pid, SIGSTOP) == 0) {
      frozen = pid;
      at_stop = lines(calls);
    }
  }
  runner.join();
  if (frozen > 0) ::kill(frozen, SIGKILL);  // in case the job did not end it
  ASSERT_GT(frozen, 0) << "rank 2 was never found running";
  ASSERT_LT(at_stop, 38u) << "the job had (almost) finished before the stop: nothing was tested";
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_NE(job.out.find("rank 2: "), std::string::npos) << job.out;
  EXPECT_NE(job.out.find("retired"), std::string::npos) << job.out;
  const RunData run_data = load_run(out);
  ASSERT_EQ(run_data.evaluations.size(), 40u);
  std::size_t failed = 0;
  for (const auto& e : run_data.evaluations)
    if (!e.failure.empty()) {
      ++failed;
      EXPECT_NE(e.failure.find("rank 2 did not answer within 6"), std::string::npos) << e.failure;
    }
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(run_data.front["failed_evaluations"], 1);
}

TEST_F(MpiSearch, KilledRunsResumeOnAnotherRankCountToTheUninterruptedFront) {
  const std::string full = *dir_ + "/full";
  ASSERT_EQ(run(0, common() + external() + "--budget 48 --out " + full).exit_code, 0);
  // A worker of a 3-rank job dies mid-generation (after the corners and 12 of the first 8 + 8):
  // mpirun ends the job; 2 ranks finish it.
  kill_and_resume(3, 2, 2, "worker", 13, full, true);
  // A plain run dies (its unsaved generation's evaluations are lost: one process evaluates a
  // generation as one batch); 3 ranks finish it.
  kill_and_resume(0, -1, 3, "plain", 13, full, false);
}

}  // namespace
}  // namespace hwnas
