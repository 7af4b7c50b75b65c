#!/usr/bin/env node
// ONNX Runtime as a latency backend of hwnas (profilers' Backend, results/onnxruntime_backend):
// a long-lived worker that speaks JSON lines on stdin/stdout, one request at a time.
//
// Usage: node ort_worker.js NODE_MODULES_DIR
//   {"op":"version"}
//     -> {"onnxruntime":"1.30.0","provider":"cpu"}
//   {"op":"time","model":PATH,"input_dims":[B,...],"threads":T,"optimization":"all",
//    "warmup":W,"min_repeats":R,"min_time_ms":M,"max_repeats":X,"seed":S,
//    "copies":C,"distinct_inputs":false}
//     -> {"samples_ms":[...]}   (or {"error":"message"})
// Each "time" creates C sessions of the model (CPU execution provider, T intra-op threads, one
// inter-op thread, sequential execution, the given graph optimisation level; C defaults to 1).
// Each session holds its own copy of the weights, so running them in rotation reads each run's
// weights from memory, as a block does inside a network too large for the cache (hwnas's
// cold-weights block timing, profilers/block_timing.h); with C = 1 the weights stay hot. The
// input is one fixed pseudo-random tensor, or one per session with "distinct_inputs" (a block
// that reads the network's image, which the previous inference evicted). It runs max(W, C)
// warm-up inferences in rotation (each session's first run allocates its buffers), then at
// least R and until M ms have passed (at most X). The samples are ONNX Runtime's own
// "model_run" durations from its profiler: the time inside the runtime, without the JavaScript
// binding's per-call overhead.
// With "nodes":true the reply also holds "kernel_ms", the median over the timed runs of the
// summed kernel times of the run's nodes, and "op_ms", per operator type the median of its
// kernel times summed within a run (after the graph optimisations: fused nodes count under
// their fused type). model_run less kernel_ms is what the executor spends between kernels.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

function input(dims, seed) {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  let s = (seed >>> 0) || 1;
  for (let i = 0; i < count; ++i) {  // xorshift32 in [-1, 1)
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    data[i] = s / 2147483648 - 1;
  }
  return data;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Per timed run of one session's profile: the summed kernel time (ms) of its nodes, overall
// and per operator type (an operator absent from a run counts 0 there).
function collectNodes(events, warm, kernelSums, opSums) {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(warm);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  for (const run of runs) {
    let total = 0;
    const perOp = {};
    for (const e of nodes) {
      if (e.ts < run.ts || e.ts > run.ts + run.dur) continue;
      const op = (e.args && e.args.op_name) || 'unknown';
      perOp[op] = (perOp[op] || 0) + e.dur / 1000;
      total += e.dur / 1000;
    }
    kernelSums.push(total);
    for (const op of new Set([...Object.keys(opSums), ...Object.keys(perOp)])) {
      if (!opSums[op]) opSums[op] = new Array(kernelSums.length - 1).fill(0);
      opSums[op].push(perOp[op] || 0);
    }
  }
}

async function time(ort, req, dir, counter) {
  const copies = req.copies === undefined ? 1 : req.copies;
  if (!Number.isInteger(copies) || copies < 1 || copies > 256)
    throw new Error(`copies must be an integer in 1..256, got ${copies}`);
  const prefixes = [];
  const sessions = [];
  try {
    for (let c = 0; c < copies; ++c) {
      prefixes.push(path.join(dir, `run${counter}_${c}`));
      sessions.push(await ort.InferenceSession.create(req.model, {
        intraOpNumThreads: req.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: req.optimization,
        enableProfiling: true,
        profileFilePrefix: prefixes[c],
      }));
    }
    const feeds = [];
    for (let c = 0; c < (req.distinct_inputs ? copies : 1); ++c) {
      const data = input(req.input_dims, (req.seed + c) % 2147483647 || 1);
      feeds.push({ [sessions[0].inputNames[0]]: new ort.Tensor('float32', data, req.input_dims) });
    }
    const warmup = Math.max(req.warmup, copies);
    let step = 0;
    const runOne = async () => {
      const c = step % copies;
      await sessions[c].run(feeds[c % feeds.length]);
      ++step;
    };
    while (step < warmup) await runOne();
    const start = process.hrtime.bigint();
    let runs = 0;
    while (runs < req.max_repeats &&
           (runs < req.min_repeats || Number(process.hrtime.bigint() - start) / 1e6 < req.min_time_ms)) {
      await runOne();
      ++runs;
    }
    // Each session's profile lists its own runs in order; its first ones were warm-up steps.
    const samples = [];
    const kernelSums = [];
    const opSums = {};
    for (let c = 0; c < copies; ++c) {
      if (sessions[c].endProfiling) await sessions[c].endProfiling();
      const file = fs.readdirSync(dir).find((f) => path.join(dir, f).startsWith(prefixes[c] + '_'));
      if (!file) throw new Error('ONNX Runtime wrote no profile');
      const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      fs.unlinkSync(path.join(dir, file));
      const runsUs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur);
      const warm = Math.floor(warmup / copies) + (c < warmup % copies ? 1 : 0);
      const total = Math.floor(step / copies) + (c < step % copies ? 1 : 0);
      if (runsUs.length !== total)
        throw new Error(`the profile holds ${runsUs.length} runs, expected ${total}`);
      for (const us of runsUs.slice(warm)) samples.push(us / 1000);
      if (req.nodes) collectNodes(events, warm, kernelSums, opSums);
    }
    if (!req.nodes) return { samples_ms: samples };
    const opMs = {};
    for (const [op, v] of Object.entries(opSums)) opMs[op] = median(v);
    return { samples_ms: samples, kernel_ms: median(kernelSums), op_ms: opMs };
  } finally {
    for (const s of sessions) if (s.release) await s.release();
  }
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error('usage: node ort_worker.js NODE_MODULES_DIR');
    return 2;
  }
  const pkg = path.resolve(argv[0], 'onnxruntime-node');
  const ort = require(pkg);
  const version = require(path.join(pkg, 'package.json')).version;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwnas-ort-'));
  const lines = readline.createInterface({ input: process.stdin });
  let counter = 0;
  try {
    for await (const line of lines) {
      let reply;
      try {
        const req = JSON.parse(line);
        if (req.op === 'version') reply = { onnxruntime: version, provider: 'cpu' };
        else if (req.op === 'time') reply = await time(ort, req, dir, counter++);
        else reply = { error: `unknown op '${req.op}'` };
      } catch (err) {
        reply = { error: String(err.message || err).split('\n')[0] };
      }
      process.stdout.write(JSON.stringify(reply) + '\n');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(`ort_worker: ${err.message || err}`);
  process.exit(1);
});
