// Runs an ONNX model in ONNX Runtime (onnxruntime-node) for the onnx
// package's TestONNXRuntime: the model's input "input" is N samples of
// FEATURES float32 values read from INPUT (raw little-endian), and its
// output "output" is written to OUTPUT the same way. FEATURES is a number
// or, for an image input, the feature shape with commas: 28,28,1.
//
// usage: node ort_run.js MODEL INPUT N FEATURES OUTPUT
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const [model, input, n, features, output] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const raw = fs.readFileSync(input);
  // Copied so that the Float32Array starts on a 4-byte boundary.
  const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const result = await session.run({ input: new ort.Tensor('float32', x, [Number(n), ...features.split(',').map(Number)]) });
  const y = result.output.data;
  fs.writeFileSync(output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

main().catch((e) => { console.error(e); process.exit(1); });
