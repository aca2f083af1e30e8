/**
 * How a spoke registers itself with its hub (docs/gitops.md, Fleet): it writes its own Argo CD cluster Secret into
 * the hub's Argo CD namespace with a server-side apply, and deletes it (after draining its Applications) on
 * `pulumi destroy`. Pure values here; the hub's grant is in ./registrars.ts, the commands in ops/fleet/.
 *
 * Who may write: spokes on the hub's own foundation use the deploy role of the hub's environment, which already
 * administers the hub. Spokes in other accounts use their foundation's deploy role, listed in the hub's
 * `fleet.registrars`: it gets a Kubernetes group (never an access policy), a namespaced Role (write Secrets, read
 * Applications; no read of Secrets) and a ValidatingAdmissionPolicy that confines it to its own spokes' Secrets.
 */

import { spokeSecretName } from "./contract";

/** Labels every registered spoke's Secret carries, beside the gitops-bridge labels of the spoke. */
export const fleetSpokeLabel = "eks-gitops-platform/fleet-spoke";
/** The account whose deploy role wrote the Secret: a registrar may only touch Secrets labelled with its own. */
export const fleetRegistrarLabel = "eks-gitops-platform/fleet-registrar";
/** Annotation naming the spoke's stack (who to `pulumi destroy` to remove it). */
export const fleetSpokeStackAnnotation = "fleet_spoke_stack";
/** The field manager of every write a spoke makes to its Secret (server-side apply owns the fields it set). */
export const registrationFieldManager = "eks-gitops-platform-fleet";
/** Kubernetes groups of registrars, one per account: `<prefix><account id>` (EKS refuses groups starting eks:, aws:, system:…). */
export const registrarGroupPrefix = "gitops-platform:fleet-registrar-";

export function registrarGroup(account: string): string {
  return `${registrarGroupPrefix}${account}`;
}

/** The keys a spoke's Secret data may hold, per hub install (infra/gitops/cluster-secret.ts connectionData). */
export function registrationDataKeys(install: "helm" | "capability"): string[] {
  return install === "capability" ? ["name", "server"] : ["name", "server", "config"];
}

export interface RegistrationArgs {
  readonly namespace: string;
  readonly clusterName: string;
  /** The spoke's gitops-bridge labels and annotations (infra/gitops/cluster-secret.ts). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** stringData as infra/gitops/cluster-secret.ts builds it: written base64-encoded as `data`. */
  readonly data: Readonly<Record<string, string>>;
  readonly registrarAccount: string;
  readonly stack: string;
}

/** The spoke's cluster Secret on the hub, as the spoke applies it (`data`, not `stringData`: SSA owns what it sends). */
export function registrationManifest(args: RegistrationArgs): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: spokeSecretName(args.clusterName),
      namespace: args.namespace,
      labels: {
        ...args.labels,
        [fleetSpokeLabel]: "true",
        [fleetRegistrarLabel]: args.registrarAccount,
      },
      annotations: { ...args.annotations, [fleetSpokeStackAnnotation]: args.stack },
    },
    data: Object.fromEntries(
      Object.entries(args.data).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")]),
    ),
  };
}

/**
 * A registrar's RBAC in the hub's Argo CD namespace. Secrets: create and patch (server-side apply is a PATCH, plus
 * create when the object is new: k8s.io/apiserver endpoints/handlers/patch.go) and delete; no get/list/watch, which
 * would read argocd-secret and the repository credentials. Applications and ApplicationSets: read, to drain.
 */
export const registrarRules = [
  { apiGroups: [""], resources: ["secrets"], verbs: ["create", "patch", "delete"] },
  {
    apiGroups: ["argoproj.io"],
    resources: ["applications", "applicationsets"],
    verbs: ["get", "list", "watch"],
  },
];

export interface RegistrationPolicyArgs {
  /** The hub's environment: every spoke Secret a registrar writes carries it. */
  readonly environment: string;
  readonly namespace: string;
  readonly install: "helm" | "capability";
}

export interface AdmissionValidation {
  readonly expression: string;
  readonly message: string;
}

/** What a registrar's `pulumi up` most likely hit when the old object fails a check: a cluster name already used. */
const nameTaken =
  "; if the Secret exists, cluster-<name> already belongs to another cluster of the fleet (the hub's own or another account's spoke): give this spoke a cluster.name unique in the fleet";
const literal = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
const list = (values: readonly string[]) => `[${values.map(literal).join(", ")}]`;
const label = (key: string) => `o.metadata.labels[${literal(key)}]`;
const hasLabel = (key: string) => `has(o.metadata.labels) && ${literal(key)} in o.metadata.labels`;

/**
 * The ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30; the platform supports
 * 1.33+) that confines registrars. It matches only requests from a registrar group and checks the new object
 * (CREATE, UPDATE) and the old one (UPDATE, DELETE), so a registrar can neither create nor take over nor delete
 * anything but a fleet spoke's cluster Secret of its own account and of the hub's environment, named
 * `cluster-<aws_cluster_name>`, with only Argo CD's connection keys in `data`.
 * What it cannot check: the *content* of `data` (server, config). Admission sees Secret data base64-encoded and
 * Kubernetes' CEL environment has no base64 decoder, so a registrar is trusted with the connection it writes; that
 * is why only deploy roles of the hub's own environment can be registrars (docs/gitops.md, Fleet).
 */
export function registrationPolicy(args: RegistrationPolicyArgs): {
  matchConditions: { name: string; expression: string }[];
  variables: { name: string; expression: string }[];
  validations: AdmissionValidation[];
} {
  const all = (condition: string) => `variables.checked.all(o, ${condition})`;
  return {
    matchConditions: [
      {
        name: "fleet-registrar",
        expression: `request.userInfo.groups.exists(g, g.startsWith(${literal(registrarGroupPrefix)}))`,
      },
    ],
    variables: [
      {
        // CREATE: the new object; UPDATE: both; DELETE: the object being deleted.
        name: "checked",
        expression:
          "request.operation == 'CREATE' ? [object] : (request.operation == 'UPDATE' ? [object, oldObject] : [oldObject])",
      },
    ],
    validations: [
      {
        expression: `request.namespace == ${literal(args.namespace)}`,
        message: `a fleet registrar writes only in the ${args.namespace} namespace`,
      },
      {
        expression: all(
          `${hasLabel("argocd.argoproj.io/secret-type")} && ${label("argocd.argoproj.io/secret-type")} == 'cluster'`,
        ),
        message:
          "a fleet registrar may only write Argo CD cluster Secrets (argocd.argoproj.io/secret-type=cluster)",
      },
      {
        expression: all(`${hasLabel(fleetSpokeLabel)} && ${label(fleetSpokeLabel)} == 'true'`),
        message: `a fleet registrar may only write fleet spokes' Secrets (${fleetSpokeLabel}=true)${nameTaken}`,
      },
      {
        expression: all(
          `${hasLabel(fleetRegistrarLabel)} && (${literal(registrarGroupPrefix)} + ${label(fleetRegistrarLabel)}) in request.userInfo.groups`,
        ),
        message: `a fleet registrar may only write Secrets labelled ${fleetRegistrarLabel}=<its own account>${nameTaken}`,
      },
      {
        expression: all(
          `${hasLabel("environment")} && ${label("environment")} == ${literal(args.environment)}`,
        ),
        message: `this hub serves ${args.environment}: a registered spoke's Secret must carry environment=${args.environment}`,
      },
      {
        expression: all(
          "has(o.metadata.annotations) && 'aws_cluster_name' in o.metadata.annotations && o.metadata.name == 'cluster-' + o.metadata.annotations['aws_cluster_name']",
        ),
        message: "a spoke's Secret is named cluster-<its aws_cluster_name annotation>",
      },
      {
        expression: all(`!has(o.data) || o.data.all(k, k in ${list(registrationDataKeys(args.install))})`),
        message: `a spoke's Secret data holds only ${registrationDataKeys(args.install).join(", ")} (no project, namespaces or shard overrides)`,
      },
      {
        expression: all("!has(o.type) || o.type == 'Opaque'"),
        message: "a spoke's Secret is of type Opaque",
      },
    ],
  };
}
