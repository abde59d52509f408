// Runs the original TF.js face models in TensorFlow.js (CPU backend) on prepared inputs, so the tract path can be
// checked against the models' own runtime (face/tests/reference.rs).
//
// usage: node reference.mjs JOBS.json
// JOBS.json: {"models": DIR, "jobs": [{"model": NAME, "input": FILE, "shape": [..], "outputs": [NODE, ..]}]}
// Each FILE holds the input as little-endian float32; prints {"results": [[[output values], ..], ..]} in job order.

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const floats = (buf) => new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));

async function load(dir, name) {
  const json = JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8'));
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(`${dir}/${p}`)));
  const all = Buffer.concat(shards);
  return loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: json.format,
  }));
}

await tf.setBackend('cpu');
const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const models = new Map();
const results = [];
for (const job of spec.jobs) {
  if (!models.has(job.model)) models.set(job.model, await load(spec.models, job.model));
  const input = tf.tensor(floats(readFileSync(job.input)), job.shape, 'float32');
  let outs = models.get(job.model).execute(input, job.outputs);
  if (!Array.isArray(outs)) outs = [outs];
  results.push(outs.map((t) => Array.from(t.dataSync())));
  tf.dispose([input, ...outs]);
}
process.stdout.write(JSON.stringify({ results }));
