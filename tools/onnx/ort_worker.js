#!/usr/bin/env node
// ONNX Runtime as a latency backend of hwnas (profilers' Backend, results/onnxruntime_backend):
// a long-lived worker that speaks JSON lines on stdin/stdout, one request at a time.
//
// Usage: node ort_worker.js NODE_MODULES_DIR
//   {"op":"version"}
//     -> {"onnxruntime":"1.30.0","provider":"cpu"}
//   {"op":"time","model":PATH,"input_dims":[B,...],"threads":T,"optimization":"all",
//    "warmup":W,"min_repeats":R,"min_time_ms":M,"max_repeats":X,"seed":S}
//     -> {"samples_ms":[...]}   (or {"error":"message"})
// Each "time" creates a session (CPU execution provider, T intra-op threads, one inter-op
// thread, sequential execution, the given graph optimisation level), runs W warm-up inferences
// on a fixed pseudo-random input, then at least R and until M ms have passed (at most X). The
// samples are ONNX Runtime's own "model_run" durations from its profiler: the time inside the
// runtime, without the JavaScript binding's per-call overhead.
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

async function time(ort, req, dir, counter) {
  const prefix = path.join(dir, `run${counter}`);
  const session = await ort.InferenceSession.create(req.model, {
    intraOpNumThreads: req.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: req.optimization,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  try {
    const feeds = {
      [session.inputNames[0]]: new ort.Tensor('float32', input(req.input_dims, req.seed), req.input_dims),
    };
    for (let i = 0; i < req.warmup; ++i) await session.run(feeds);
    const start = process.hrtime.bigint();
    let runs = 0;
    while (runs < req.max_repeats &&
           (runs < req.min_repeats || Number(process.hrtime.bigint() - start) / 1e6 < req.min_time_ms)) {
      await session.run(feeds);
      ++runs;
    }
    if (session.endProfiling) await session.endProfiling();
    const file = fs.readdirSync(dir).find((f) => path.join(dir, f).startsWith(prefix + '_'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    fs.unlinkSync(path.join(dir, file));
    const runsUs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur);
    if (runsUs.length !== req.warmup + runs)
      throw new Error(`the profile holds ${runsUs.length} runs, expected ${req.warmup + runs}`);
    return { samples_ms: runsUs.slice(req.warmup).map((us) => us / 1000) };
  } finally {
    if (session.release) await session.release();
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
