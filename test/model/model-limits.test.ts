// What the registry refuses at publish, before any consumer builds the model: declared shapes that do not
// match the weights, layers no engine here serves, and sizes past the limits.
import { describe, expect, test } from 'bun:test';
import { defaultModel } from '../../src/embedded/assets.ts';
import { MODEL_LIMITS, ModelLimitError, publishableFiles } from '../../src/model/model-limits.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { sequentialModelJson, tinyModel, type LayerJson, type WeightJson } from '../helpers/tiny-model.ts';

const encode = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
const floats = (count: number) => new Uint8Array(count * 4);

function refusal(modelJson: unknown, weightsBin: Uint8Array): string {
  try {
    publishableFiles('v1', { modelJson: modelJson instanceof Uint8Array ? modelJson : encode(modelJson), weightsBin });
  } catch (error) {
    expect(error).toBeInstanceOf(ModelLimitError);
    return (error as Error).message;
  }
  throw new Error('taken');
}

const dense = (name: string, units: number, input?: (number | null)[]): LayerJson => ({
  class_name: 'Dense',
  config: { name, units, activation: units === 10 ? 'softmax' : 'relu', use_bias: true, ...(input ? { batch_input_shape: input } : {}) },
});
const denseWeights = (name: string, inputs: number, units: number): WeightJson[] => [
  { name: `${name}/kernel`, shape: [inputs, units], dtype: 'float32' },
  { name: `${name}/bias`, shape: [units], dtype: 'float32' },
];

describe('publishable model files', () => {
  test('a model within the limits is taken, with model.onnx made from its own files whatever was uploaded', () => {
    const { modelJson, weightsBin } = tinyModel();
    const uploaded = new Uint8Array([8, 1, 18, 0]);
    const files = publishableFiles('tiny-1', { modelJson: encode(modelJson), weightsBin, modelOnnx: uploaded });
    expect(Buffer.from(files.weightsBin).equals(Buffer.from(weightsBin))).toBe(true);
    const exported = exportToOnnx({ version: 'tiny-1', modelJson: encode(modelJson), weightsBin }).bytes;
    expect(Buffer.from(files.modelOnnx as Uint8Array).equals(Buffer.from(exported))).toBe(true);
  });

  test('the embedded model is within the limits', async () => {
    const modelJson = new Uint8Array(await Bun.file(defaultModel.modelJson).arrayBuffer());
    const weightsBin = new Uint8Array(await Bun.file(defaultModel.weightsBin).arrayBuffer());
    expect(publishableFiles('embedded', { modelJson, weightsBin }).modelOnnx?.byteLength).toBeGreaterThan(weightsBin.byteLength);
  });

  test('a layer declaring more units than its weights hold is refused before anything is allocated for it', () => {
    const huge = sequentialModelJson([dense('dense', 1_000_000_000, [null, 784])], denseWeights('dense', 784, 10));
    expect(refusal(huge, floats(7850))).toBe('layer dense (Dense): weight dense/kernel has shape [784,10], expected [784,1000000000]');
  });

  test('weights.bin must hold exactly what the manifest describes, in float32', () => {
    const { modelJson, weightsBin } = tinyModel();
    expect(refusal(modelJson, weightsBin.subarray(0, weightsBin.byteLength - 4))).toContain('too few for weight dense/bias');
    expect(refusal(modelJson, new Uint8Array(weightsBin.byteLength + 4))).toContain(`holds ${weightsBin.byteLength + 4} bytes, the manifest describes ${weightsBin.byteLength}`);
    const halves = sequentialModelJson([dense('dense', 10, [null, 784])], [{ ...denseWeights('dense', 784, 10)[0]!, dtype: 'float16' as 'float32' }, denseWeights('dense', 784, 10)[1]!]);
    expect(refusal(halves, floats(7850))).toContain('float16');
  });

  test('only Sequential models of the layers every engine serves', () => {
    expect(refusal({ modelTopology: { class_name: 'Model', config: {} } }, floats(0))).toContain('only Sequential');
    expect(refusal(new TextEncoder().encode('{"modelTopology": '), floats(0))).toContain('JSON');
    const upsampling = sequentialModelJson(
      [{ class_name: 'UpSampling2D', config: { name: 'up', size: [1000, 1000], batch_input_shape: [null, 28, 28, 1], data_format: 'channels_last' } }],
      [],
    );
    expect(refusal(upsampling, floats(0))).toContain('UpSampling2D');
  });

  test('images of 28×28×1 or 784 in, ten probabilities out', () => {
    const wide = sequentialModelJson([dense('dense', 10, [null, 1024])], denseWeights('dense', 1024, 10));
    expect(refusal(wide, floats(10250))).toBe('model v1 takes 1024 images; Stratus sends 28×28×1 or 784');
    const eleven = sequentialModelJson([dense('dense', 11, [null, 784])], denseWeights('dense', 784, 11));
    expect(refusal(eleven, floats(784 * 11 + 11))).toBe('model v1 gives 11 values an image, not 10 probabilities');
  });

  test('at most 32 layers, 4 M parameters, and 262,144 values from one layer for one image', () => {
    const dropouts = Array.from({ length: MODEL_LIMITS.layers }, (_, i): LayerJson => ({ class_name: 'Dropout', config: { name: `drop${i}`, rate: 0.1 } }));
    const deep = sequentialModelJson([dense('dense', 10, [null, 784]), ...dropouts], denseWeights('dense', 784, 10));
    expect(refusal(deep, floats(7850))).toBe('model v1 has 33 layers; at most 32');

    const units = 5200;
    const heavy = sequentialModelJson([dense('hidden', units, [null, 784]), dense('out', 10)], [...denseWeights('hidden', 784, units), ...denseWeights('out', units, 10)]);
    const parameters = 784 * units + units + units * 10 + 10;
    expect(refusal(heavy, floats(parameters))).toBe(`model v1 has ${parameters} parameters; at most 4000000`);

    // A 1×1 convolution is cheap in weights and dear in memory: 512 filters on 28×28 give 401,408 values an image.
    const conv: LayerJson = {
      class_name: 'Conv2D',
      config: { name: 'conv', filters: 512, kernel_size: [1, 1], strides: [1, 1], dilation_rate: [1, 1], padding: 'valid', data_format: 'channels_last', activation: 'relu', use_bias: true, batch_input_shape: [null, 28, 28, 1] },
    };
    const pool: LayerJson = { class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [28, 28], padding: 'valid', data_format: 'channels_last' } };
    const flatten: LayerJson = { class_name: 'Flatten', config: { name: 'flat', data_format: 'channels_last' } };
    const wideMap = sequentialModelJson(
      [conv, pool, flatten, dense('out', 10)],
      [{ name: 'conv/kernel', shape: [1, 1, 1, 512], dtype: 'float32' }, { name: 'conv/bias', shape: [512], dtype: 'float32' }, ...denseWeights('out', 512, 10)],
    );
    expect(refusal(wideMap, floats(512 + 512 + 5120 + 10))).toBe('model v1 has a layer giving 401408 values an image; at most 262144');
  });
});
