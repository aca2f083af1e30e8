import type { ResourceValidationPolicy } from "@pulumi/policy";
import { helmValuesTypes } from "./identity";
import { atPath, elements, entries, forType, isUnknown, show, UNKNOWN } from "./lib/values";

export const secretTypes = ["kubernetes:core/v1:Secret", "kubernetes:core/v1:SecretPatch"];
export const configMapDataTypes = ["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch"];
export const storageClassTypes = [
  "kubernetes:storage.k8s.io/v1:StorageClass",
  "kubernetes:storage.k8s.io/v1:StorageClassPatch",
];
export const serviceTypes = ["kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch"];

/** Key names that hold a credential. */
const credentialKey =
  /(pass(word|wd)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential|client[-_]?secret)s?$/i;
/** Values that are a credential whatever their key: PEM private keys, AWS access keys, GitHub and Slack tokens. */
const credentialValue = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/,
];

/** Paths of credentials inside a data map, looking into JSON-encoded values (e.g. an Argo CD cluster `config`). */
export function credentialPaths(value: unknown, path: string, key = ""): string[] {
  if (isUnknown(value) || value === undefined || value === null) return [];
  if (typeof value === "string") {
    if (credentialKey.test(key) && value.trim() !== "") return [path];
    if (credentialValue.some((pattern) => pattern.test(value))) return [path];
    const trimmed = value.trim();
    if (trimmed.startsWith("{")) {
      try {
        return credentialPaths(JSON.parse(trimmed), path);
      } catch {
        return [];
      }
    }
    return [];
  }
  if (typeof value === "boolean" || typeof value === "number") return [];
  const items = entries(value);
  if (items === undefined || items === UNKNOWN) return [];
  return items.flatMap(([childKey, child]) => credentialPaths(child, `${path}.${childKey}`, childKey));
}

/**
 * A credential written into a Kubernetes object by the program sits in the program's source or plain config and in
 * the state's inputs (ConfigMaps are never marked secret); the analyzer cannot tell a `pulumi.secret` apart, so the
 * rule judges the content: known credential keys and well-known credential formats.
 */
export const k8sNoPlaintextSecret: ResourceValidationPolicy = {
  name: "k8s-no-plaintext-secret",
  description:
    "Kubernetes Secrets and ConfigMaps created by the program must not carry credentials (password/token/key fields, private keys, access keys): keep them in AWS Secrets Manager and sync them into the cluster with External Secrets or the Secrets Store CSI driver.",
  enforcementLevel: "mandatory",
  validateResource: forType([...secretTypes, ...configMapDataTypes], (props, args, reportViolation) => {
    const name = `${show(atPath(props, "metadata", "namespace") ?? "default")}/${show(atPath(props, "metadata", "name") ?? args.name)}`;
    const kind = secretTypes.includes(args.type) ? "Secret" : "ConfigMap";
    const paths = ["data", "stringData", "binaryData"].flatMap((field) =>
      credentialPaths(atPath(props, field), field),
    );
    if (paths.length === 0) return;
    reportViolation(
      `${kind} ${name} (${args.name}) holds credentials written in the program at ${paths.join(", ")}: they sit in the source or stack config and in the state file${kind === "ConfigMap" ? " in plain text" : ""}; keep them in AWS Secrets Manager and sync them with External Secrets (or mount them with the Secrets Store CSI driver).`,
    );
  }),
};

/** Provisioners of EBS-backed volumes: the EBS CSI driver, Auto Mode's built-in driver, the in-tree plugin. */
export const ebsProvisioners = ["ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com", "kubernetes.io/aws-ebs"];

export const k8sStorageClassEncrypted: ResourceValidationPolicy = {
  name: "k8s-storageclass-encrypted",
  description:
    'EBS StorageClasses must encrypt volumes: set parameters.encrypted: "true" (and parameters.kmsKeyId for a customer-managed key) on ebs.csi.eks.amazonaws.com / ebs.csi.aws.com classes.',
  enforcementLevel: "mandatory",
  validateResource: forType(storageClassTypes, (props, args, reportViolation) => {
    const provisioner = atPath(props, "provisioner");
    if (typeof provisioner !== "string" || !ebsProvisioners.includes(provisioner)) return;
    const encrypted = atPath(props, "parameters", "encrypted");
    if (encrypted === UNKNOWN || encrypted === "true") return;
    reportViolation(
      `StorageClass ${show(atPath(props, "metadata", "name") ?? args.name)} (${provisioner}) has parameters.encrypted ${encrypted === undefined ? "unset (volumes follow the account's EBS default, unencrypted unless someone turned it on)" : `"${show(encrypted)}"`}; set parameters.encrypted: "true" (and kmsKeyId to the platform key).`,
    );
  }),
};

/** Annotations with which the AWS Load Balancer Controller / Auto Mode create an internal load balancer. */
function isInternalLoadBalancer(annotations: unknown): boolean {
  const scheme = atPath(annotations, "service.beta.kubernetes.io/aws-load-balancer-scheme");
  const internal = atPath(annotations, "service.beta.kubernetes.io/aws-load-balancer-internal");
  return scheme === "internal" || internal === "true";
}

function isArgoCdChart(chart: unknown): boolean {
  return typeof chart === "string" && /(^|\/)argo-cd(\.tgz)?$/.test(chart);
}

/**
 * Argo CD holds the keys to every cluster it manages; its API must stay private and speak TLS. Values key paths
 * (argo-helm chart `argo-cd`): `server.service.type`, `server.service.annotations`, `server.extraArgs`,
 * `configs.params."server.insecure"` — checked against the vendored values keys in the tests.
 */
export const argocdServerPrivate: ResourceValidationPolicy = {
  name: "argocd-server-private",
  description:
    'Argo CD\'s API server must not face the internet or drop TLS: no server.service.type LoadBalancer (unless annotated internal), no configs.params."server.insecure": true and no --insecure in server.extraArgs; reach it through kubectl port-forward or an internal load balancer.',
  enforcementLevel: "mandatory",
  validateResource: forType([...helmValuesTypes, ...serviceTypes], (props, args, reportViolation) => {
    if (serviceTypes.includes(args.type)) {
      const name = atPath(props, "metadata", "name");
      if (name !== "argocd-server" || atPath(props, "spec", "type") !== "LoadBalancer") return;
      if (isInternalLoadBalancer(atPath(props, "metadata", "annotations"))) return;
      reportViolation(
        `Service argocd-server (${args.name}) is type LoadBalancer without the internal scheme annotation, exposing Argo CD's API (which holds every managed cluster's credentials) to the internet; use ClusterIP and kubectl port-forward, or annotate service.beta.kubernetes.io/aws-load-balancer-scheme: internal.`,
      );
      return;
    }
    if (!isArgoCdChart(atPath(props, "chart"))) return;
    const values = atPath(props, "values");
    if (values === UNKNOWN) return;
    const serviceType = atPath(values, "server", "service", "type");
    if (
      serviceType === "LoadBalancer" &&
      !isInternalLoadBalancer(atPath(values, "server", "service", "annotations"))
    ) {
      reportViolation(
        `Argo CD release ${args.name} sets server.service.type LoadBalancer without the internal scheme annotation, exposing Argo CD's API (which holds every managed cluster's credentials) to the internet; keep ClusterIP and use kubectl port-forward, or annotate server.service.annotations service.beta.kubernetes.io/aws-load-balancer-scheme: internal.`,
      );
    }
    const insecure = atPath(values, "configs", "params", "server.insecure");
    const extraArgs = elements(atPath(values, "server", "extraArgs"));
    if (
      insecure === true ||
      insecure === "true" ||
      (extraArgs !== UNKNOWN && (extraArgs ?? []).includes("--insecure"))
    ) {
      reportViolation(
        `Argo CD release ${args.name} turns TLS off on the API server (${insecure === true || insecure === "true" ? 'configs.params."server.insecure": true' : "server.extraArgs --insecure"}), so logins and tokens cross the network in clear text; remove it and keep the server's TLS (terminate at an internal load balancer only with re-encryption).`,
      );
    }
  }),
};
