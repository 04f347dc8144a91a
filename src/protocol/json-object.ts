// Parsed JSON arrives as `unknown`: this is the one test, for every reader of a body or a stored report,
// that a value is an object with named fields (not null, not an array) before its fields are read.
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
