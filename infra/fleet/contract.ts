import { fleetRolePathRoot } from "../foundation/contract";
import { isRecord } from "../objects";

/**
 * The contract between a fleet's hub stack and its spoke stacks. Only the spoke reads the other side, through
 * `pulumi.StackReference` (as cluster stacks read their foundation, infra/foundation/contract.ts): the hub's
 * `fleetHub` output says which identity Argo CD uses (the spoke grants it an access entry), where the hub runs (a
 * chart hub's pods are admitted to the private endpoint) and how to reach the hub's API (the spoke writes its own
 * cluster Secret there). The hub never lists its spokes, so adding or removing one is one stack's `pulumi up` or
 * `destroy`. A spoke still exports `fleetSpoke` (what it registered) for people and tools.
 * No output carries a credential: identities are IAM role ARNs, the CA bundles are public.
 *
 * Raise `fleetContractVersion` on any breaking change; readers refuse a version they do not know.
 * 2: the spoke registers itself (hub endpoint, CA, environment, registrars and the Argo CD namespace added).
 */
export const fleetContractVersion = 2;

/** What a hub exports as `fleetHub`. */
export interface FleetHubOutputs {
  readonly contractVersion: number;
  /** `<organization>/<project>/<stack>` of the hub: spokes must name exactly this. */
  readonly stack: string;
  readonly install: "helm" | "capability";
  readonly accountId: string;
  readonly region: string;
  readonly clusterName: string;
  /**
   * The IAM role Argo CD reaches spokes with: the capability role (capability), or the application controller's
   * Pod Identity role (chart), which assumes each spoke's hub-access role.
   */
  readonly principalArn: string;
  readonly vpcId: string;
  /** The hub cluster's address block (its network.vpcCidr): where its nodes and pods live. */
  readonly vpcCidr: string;
  /** The hub cluster's EKS security group: a chart hub's nodes and pods carry it. */
  readonly clusterSecurityGroupId: string;
  /** The git repository the hub's ApplicationSets come from; spokes must point their annotations at the same. */
  readonly repoUrl: string;
  /** The hub's environment: a spoke registers only with a hub of its own environment (docs/gitops.md, Fleet). */
  readonly environment: string;
  /** https://… private API endpoint and its (public) CA bundle: where a spoke writes its cluster Secret. */
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  /** Namespace of the hub's Argo CD (cluster Secrets live there). */
  readonly argocdNamespace: string;
  /** The deploy role of the hub's environment on the hub's foundation: already the hub's cluster admin. */
  readonly deployRoleArn: string;
  /** Other accounts' deploy roles the hub grants registration (fleet.registrars). */
  readonly registrars: readonly string[];
}

/** What a spoke exports as `fleetSpoke`. */
export interface FleetSpokeOutputs {
  readonly contractVersion: number;
  /** The hub stack this spoke granted access to. */
  readonly hub: string;
  readonly stack: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  /** https://… private API endpoint. */
  readonly endpoint: string;
  /** Base64 CA bundle of the API server (public). */
  readonly certificateAuthorityData: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Chart hub only: the role in the spoke's account the hub's controller assumes (its access entry is here). */
  readonly hubAccessRoleArn?: string;
}

const hubStrings = [
  "stack",
  "install",
  "accountId",
  "region",
  "clusterName",
  "principalArn",
  "vpcId",
  "vpcCidr",
  "clusterSecurityGroupId",
  "repoUrl",
  "environment",
  "endpoint",
  "certificateAuthorityData",
  "argocdNamespace",
  "deployRoleArn",
] as const;

/** Every output of a fleet stack, as StackReference returns them; `name` is the output read. */
function parse<T>(
  raw: Readonly<Record<string, unknown>>,
  name: "fleetHub",
  strings: readonly string[],
  maps: readonly string[],
): { value?: T; problems: string[] } {
  if (Object.keys(raw).length === 0)
    return {
      problems: [
        "it has no outputs (the stack does not exist, was never deployed, or its last `pulumi up` failed)",
      ],
    };
  const value = raw[name];
  if (!isRecord(value))
    return {
      problems: [`it exports no ${name} output (is its fleet.role set to hub?)`],
    };
  const problems: string[] = [];
  if (value.contractVersion !== fleetContractVersion)
    problems.push(
      `its ${name}.contractVersion is ${JSON.stringify(value.contractVersion)}, this program reads version ${fleetContractVersion}`,
    );
  for (const key of strings)
    if (typeof value[key] !== "string" || value[key] === "") problems.push(`${name}.${key} is not a string`);
  for (const key of maps)
    if (!isRecord(value[key]) || !Object.values(value[key]).every((item) => typeof item === "string"))
      problems.push(`${name}.${key} is not a map of strings`);
  return problems.length > 0 ? { problems } : { value: value as T, problems };
}

export function parseFleetHub(raw: Readonly<Record<string, unknown>>): {
  value?: FleetHubOutputs;
  problems: string[];
} {
  const parsed = parse<FleetHubOutputs>(raw, "fleetHub", hubStrings, []);
  if (parsed.value && !["helm", "capability"].includes(parsed.value.install))
    return { problems: [`fleetHub.install is ${JSON.stringify(parsed.value.install)}`] };
  const registrars: unknown = parsed.value?.registrars;
  if (parsed.value && !(Array.isArray(registrars) && registrars.every((item) => typeof item === "string")))
    return { problems: ["fleetHub.registrars is not a list of role ARNs"] };
  return parsed;
}

/** The error a stack raises when a fleet reference cannot be used: names the config key, the stack and the fix. */
export class FleetReferenceError extends Error {
  constructor(key: string, reference: string, problems: readonly string[], fix: string) {
    super(`${key} = ${JSON.stringify(reference)} cannot be used: ${problems.join("; ")}. ${fix}`);
    this.name = "FleetReferenceError";
  }
}

/** Name of a spoke's cluster Secret on the hub (Argo CD's convention `cluster-<name>`, like the local one). */
export function spokeSecretName(clusterName: string): string {
  return `cluster-${clusterName}`;
}

/** Name of the role a chart hub's controller assumes on a spoke (in the spoke's account). */
export function hubAccessRoleName(spokeClusterName: string): string {
  return `${spokeClusterName}-argocd-hub`;
}

/**
 * IAM path of every spoke's hub-access role: the hub's controller may assume roles under it in any account (it
 * cannot list spokes it does not know), and each role's own trust policy admits only this hub's controller role.
 */
export function hubAccessRolePath(hubClusterName: string): string {
  return `/${fleetRolePathRoot}/${hubClusterName}/`;
}

/** Name of a chart hub's Argo CD Pod Identity role (controller and server). */
export function hubControllerRoleName(hubClusterName: string): string {
  return `${hubClusterName}-argocd-fleet`;
}

/**
 * Service accounts of the argo-cd chart (10.1.1 values.yaml `controller.serviceAccount.name`,
 * `server.serviceAccount.name`; test/fixtures/upstream/argo-cd-10.1.1.service-accounts.json) that reach spokes:
 * the controller syncs, the server shows live state and runs actions.
 */
export const argoCdFleetServiceAccounts = ["argocd-application-controller", "argocd-server"] as const;
