#!/usr/bin/env node
// Runs an ONNX model once with ONNX Runtime (the onnxruntime-node package, CPU execution
// provider): the independent runtime hwnas's ONNX export tests compare the engine against.
//
// Usage: node ort_run.js NODE_MODULES_DIR MODEL.onnx INPUT.f32 D0,D1,... OUTPUT.f32
//   INPUT.f32 / OUTPUT.f32: raw little-endian float32, the input of dimensions D0,D1,... (NCHW
//   for a network, (B, N, C) tokens for a block that reads tokens) and the model's first output.
// Exit status: 0 on success, 1 when the runtime rejects the model or the run fails (message on
// stderr), 2 on bad arguments.
'use strict';
const fs = require('fs');
const path = require('path');

async function main(argv) {
  if (argv.length !== 5) {
    console.error('usage: node ort_run.js NODE_MODULES_DIR MODEL.onnx INPUT.f32 D0,D1,... OUTPUT.f32');
    return 2;
  }
  const [modulesDir, modelPath, inputPath, shapeText, outputPath] = argv;
  const dims = shapeText.split(',').map(Number);
  if (dims.length < 1 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    console.error(`bad input shape '${shapeText}': give positive dimensions, e.g. B,C,H,W`);
    return 2;
  }
  const ort = require(path.join(modulesDir, 'onnxruntime-node'));
  const bytes = fs.readFileSync(inputPath);
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== 4 * count) {
    console.error(`'${inputPath}' holds ${bytes.length} bytes, not ${4 * count} for ${shapeText}`);
    return 2;
  }
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, count);
  // One intra-op thread and no graph rewrites beyond the basic ones: the comparison is about
  // the graph's meaning, not ONNX Runtime's fusions.
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'basic',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const result = await session.run(feeds);
  const out = result[session.outputNames[0]];
  fs.writeFileSync(outputPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(JSON.stringify({ output: session.outputNames[0], dims: out.dims }));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`onnxruntime: ${err.message || err}`);
    process.exit(1);
  });
