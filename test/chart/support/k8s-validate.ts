import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface ValidatingModel {
  validate(): void;
}
type ModelClass = new (data: K8sObject) => ValidatingModel;

/** The Kubernetes (and prometheus-operator) OpenAPI schemas, per apiVersion/kind, from kubernetes-models. */
const MODELS = new Map<string, ModelClass>(
  (
    [
      Deployment,
      CustomResourceDefinition,
      ConfigMap,
      Service,
      ServiceAccount,
      ClusterRole,
      ClusterRoleBinding,
      Role,
      RoleBinding,
      PrometheusRule,
      ServiceMonitor,
    ] as unknown as (ModelClass & { apiVersion: string; kind: string })[]
  ).map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

type JsonSchema = { [keyword: string]: unknown };

/**
 * The API server's view of a structural CRD schema, for ajv: an object schema that lists its
 * properties and neither preserves unknown fields nor declares additionalProperties rejects
 * other fields, as the API server does with strict field validation (kubectl's default).
 */
function strictStructural(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (out.properties && typeof out.properties === 'object') {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [
        k,
        strictStructural(v),
      ]),
    );
    if (out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
      out.additionalProperties = false;
    }
  }
  if (out.items && typeof out.items === 'object')
    out.items = strictStructural(out.items as JsonSchema);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = strictStructural(out.additionalProperties as JsonSchema);
  }
  return out;
}

/** Validates custom resources against the openAPIV3Schema of the CRDs given. */
export class CustomResourceValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(crds: K8sObject[]) {
    addFormats(this.ajv);
    // OpenAPI's number formats, which the API server accepts for any integer of the type.
    for (const format of ['int32', 'int64', 'float', 'double']) this.ajv.addFormat(format, true);
    for (const crd of crds) {
      const spec = crd.spec as {
        group: string;
        names: { kind: string };
        versions: { name: string; schema: { openAPIV3Schema: JsonSchema } }[];
      };
      for (const version of spec.versions) {
        const schema = strictStructural(version.schema.openAPIV3Schema);
        // Every object carries apiVersion/kind/metadata, which the API server checks itself.
        const properties = schema.properties as Record<string, JsonSchema>;
        for (const field of ['apiVersion', 'kind', 'metadata']) properties[field] ??= {};
        this.validators.set(
          `${spec.group}/${version.name}/${spec.names.kind}`,
          this.ajv.compile(schema as AnySchema),
        );
      }
    }
  }

  has(object: K8sObject): boolean {
    return this.validators.has(`${object.apiVersion}/${object.kind}`);
  }

  /** Throws with the schema errors when `object` does not match its CRD. */
  validate(object: K8sObject): void {
    const validate = this.validators.get(`${object.apiVersion}/${object.kind}`);
    if (!validate) throw new Error(`no CRD schema for ${object.apiVersion}/${object.kind}`);
    // Passed as unknown: the validator is a type guard and would narrow `object` to never.
    if (!validate(object as unknown)) {
      throw new Error(
        `${object.kind} ${object.metadata.name}: ${this.ajv.errorsText(validate.errors)}`,
      );
    }
  }
}

/**
 * Validates each object against its Kubernetes schema, or its CRD's schema for custom resources;
 * an object of a kind neither knows fails, so nothing rendered goes unchecked.
 */
export function validateObjects(
  objects: K8sObject[],
  customResources: CustomResourceValidator,
): void {
  for (const object of objects) {
    if (customResources.has(object)) {
      customResources.validate(object);
      continue;
    }
    const Model = MODELS.get(`${object.apiVersion}/${object.kind}`);
    if (!Model) throw new Error(`no schema to validate ${object.apiVersion}/${object.kind}`);
    try {
      new Model(object).validate();
    } catch (err) {
      throw new Error(`${object.kind} ${object.metadata.name}: ${(err as Error).message}`);
    }
  }
}
