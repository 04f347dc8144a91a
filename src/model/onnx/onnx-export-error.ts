// Why a model cannot be exported to ONNX: a layer, a setting or a weight the exporter does not handle.
// Its own class so that a caller can tell "this model has no ONNX form" from a bug or a bad file.
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}
