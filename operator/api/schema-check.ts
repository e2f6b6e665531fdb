import type { SchemaProps } from './schema-types';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a value against a structural schema the way the API server does for the keywords the
 * RocketMQCluster schema uses (type, enum, bounds, pattern, length, required); returns one
 * message per problem, each naming the field. The operator runs it too, so a cluster stored
 * without validation (an old CRD, a bypassed webhook) is refused rather than half-applied.
 */
export function schemaErrors(schema: SchemaProps, value: unknown, path = ''): string[] {
  if (value === undefined) return [];
  const at = path || '<root>';
  if (value === null) return schema.type ? [`${at}: must be of type ${schema.type}, not null`] : [];
  const errors: string[] = [];
  switch (schema.type) {
    case 'object':
      if (!isPlainObject(value)) return [`${at}: must be of type object`];
      for (const key of schema.required ?? []) {
        if (value[key] === undefined) errors.push(`${path}.${key}: Required value`);
      }
      for (const [key, child] of Object.entries(value)) {
        const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
        if (childSchema) errors.push(...schemaErrors(childSchema, child, `${path}.${key}`));
      }
      return errors;
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: must be of type array`];
      const items = schema.items;
      return items ? value.flatMap((item, i) => schemaErrors(items, item, `${path}[${i}]`)) : [];
    }
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) {
        return [`${at}: must be of type ${schema.type}`];
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        errors.push(`${at}: should be >= ${schema.minimum}`);
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        errors.push(`${at}: should be <= ${schema.maximum}`);
      }
      break;
    case 'string':
      if (typeof value !== 'string') return [`${at}: must be of type string`];
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        errors.push(`${at}: should be at least ${schema.minLength} chars long`);
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        errors.push(`${at}: may not be more than ${schema.maxLength} chars long`);
      }
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
        errors.push(`${at}: should match '${schema.pattern}'`);
      }
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${at}: must be of type boolean`];
      break;
  }
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    const supported = schema.enum.map((v) => `"${v}"`).join(', ');
    errors.push(
      `${at}: Unsupported value: ${JSON.stringify(value)}: supported values: ${supported}`,
    );
  }
  return errors;
}
