/** The subset of OpenAPI v3 (Kubernetes structural schema) the RocketMQCluster schema uses. */
export interface SchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, SchemaProps>;
  additionalProperties?: SchemaProps;
  items?: SchemaProps;
  required?: string[];
  enum?: readonly (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

/**
 * Fills in every `default` the schema declares where the value is missing, as the API server
 * does for a structural schema (an absent object gets its default, then its fields theirs).
 * Returns a new value; the input is not modified.
 */
export function applyDefaults(schema: SchemaProps, value: unknown): unknown {
  const filled = value === undefined ? structuredClone(schema.default) : value;
  if (filled === undefined || filled === null) return filled;
  if (schema.type === 'object' && typeof filled === 'object' && !Array.isArray(filled)) {
    const result: Record<string, unknown> = { ...(filled as Record<string, unknown>) };
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const next = applyDefaults(child, result[key]);
      if (next !== undefined) result[key] = next;
    }
    if (schema.additionalProperties) {
      for (const key of Object.keys(result)) {
        if (schema.properties?.[key]) continue;
        result[key] = applyDefaults(schema.additionalProperties, result[key]);
      }
    }
    return result;
  }
  if (schema.type === 'array' && Array.isArray(filled) && schema.items) {
    const items = schema.items;
    return filled.map((item: unknown) => applyDefaults(items, item));
  }
  return filled;
}
