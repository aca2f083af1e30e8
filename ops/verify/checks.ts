import type { PlatformConfig } from "../../infra/config";
import { parseCidr } from "../../infra/config/cidr";
import { accessGrants } from "../../infra/identity/access";
import { controlPlaneLogGroupName, controlPlaneLogTypes } from "../../infra/cluster/contract";
import { argoCdCapabilityRoleName } from "../../infra/config/gitops";
import { roleBoundaryTagKey } from "../../infra/foundation/contract";
import type { PlatformRole } from "./roles";
import type {
  Leftovers,
  ObservedAccessEntry,
  ObservedCluster,
  ObservedFlowLog,
  ObservedIngressRule,
  ObservedKey,
  ObservedLogGroup,
  ObservedRole,
  ObservedSubnet,
} from "./inventory";

/** mandatory: a promise of the stack is broken (non-zero exit); advisory: worth a look, not a failure. */
export type Severity = "mandatory" | "advisory";

export interface Finding {
  readonly check: string;
  readonly severity: Severity;
  readonly ok: boolean;
  readonly expected: string;
  readonly actual: string;
  /** What to do about a drift. */
  readonly fix?: string;
  /** The endpoint could not answer this check (e.g. an emulator without the API): neither ok nor drift. */
  readonly notChecked?: boolean;
}

/** Everything read from AWS about one stack. */
export interface Observation {
  readonly cluster: ObservedCluster | undefined;
  /** undefined when the endpoint cannot list them (see notChecked). */
  readonly accessEntries: readonly ObservedAccessEntry[] | undefined;
  /** Ingress rules of the cluster security group; undefined when not read (see notChecked). */
  readonly clusterIngress?: readonly ObservedIngressRule[];
  /** The VPC's flow logs; undefined when not read (see notChecked). */
  readonly flowLogs?: readonly ObservedFlowLog[];
  /** The platform's IAM roles (ops/verify/roles.ts), each with what IAM holds; undefined when not read. */
  readonly roles?: readonly {
    readonly expected: PlatformRole;
    readonly observed: ObservedRole | undefined;
  }[];
  /** Checks that could not run against this endpoint, with the reason. */
  readonly notChecked?: readonly { readonly check: string; readonly reason: string }[];
  /** One per encryption key the cluster uses. */
  readonly keys: readonly ObservedKey[];
  readonly controlPlaneLogGroup: ObservedLogGroup | undefined;
  readonly subnets: readonly ObservedSubnet[];
  readonly leftovers: Leftovers;
}

const list = (values: readonly string[]) => (values.length === 0 ? "(none)" : [...values].sort().join(", "));
const sameSet = (a: readonly string[], b: readonly string[]) => list(a) === list(b);
const reapply = "run `pulumi up` on the stack to put it back (or change the config if the change was meant)";

/** A passing finding carries no `fix`: the key is removed, so only drifts say what to do. */
export function normalise({ fix, ...rest }: Finding): Finding {
  return rest.ok || fix === undefined ? rest : { ...rest, fix };
}

/**
 * Compares what AWS reports with what the stack's config promises. Pure: returns one finding per check, passing or
 * not, so the report shows what was checked as well as what drifted.
 */
export function checkStack(config: PlatformConfig, observed: Observation): Finding[] {
  const cluster = observed.cluster;
  if (!cluster) {
    return [
      normalise({
        check: "cluster exists",
        severity: "mandatory",
        ok: false,
        expected: `EKS cluster ${config.cluster.name} in ${config.region}`,
        actual: "no such cluster",
        fix: "deploy the stack with `pulumi up`, or check the region and credentials",
      }),
    ];
  }
  const findings: Finding[] = [];
  const add = (candidate: Finding) => findings.push(normalise(candidate));
  const publicWanted = config.cluster.publicAccessCidrs.length > 0;

  add({
    check: "private endpoint access",
    severity: "mandatory",
    ok: cluster.endpointPrivateAccess,
    expected: "enabled",
    actual: cluster.endpointPrivateAccess ? "enabled" : "disabled",
    fix: reapply,
  });
  add({
    check: "public endpoint access",
    severity: "mandatory",
    ok:
      cluster.endpointPublicAccess === publicWanted &&
      (!publicWanted || sameSet(cluster.publicAccessCidrs, config.cluster.publicAccessCidrs)),
    expected: publicWanted ? `public, limited to ${list(config.cluster.publicAccessCidrs)}` : "private only",
    actual: cluster.endpointPublicAccess
      ? `public, open to ${list(cluster.publicAccessCidrs)}`
      : "private only",
    fix: reapply,
  });
  const missingLogs = controlPlaneLogTypes.filter((type) => !cluster.enabledLogTypes.includes(type));
  add({
    check: "control-plane logging",
    severity: "mandatory",
    ok: missingLogs.length === 0,
    expected: list(controlPlaneLogTypes),
    actual: missingLogs.length === 0 ? list(cluster.enabledLogTypes) : `missing ${list(missingLogs)}`,
    fix: reapply,
  });
  const secretKeys = cluster.encryption.filter(
    (entry) => entry.resources.includes("secrets") && entry.keyArn,
  );
  add({
    check: "secrets envelope encryption",
    severity: "mandatory",
    ok: secretKeys.length > 0,
    expected: "secrets encrypted with the stack's KMS key",
    actual: secretKeys.length > 0 ? secretKeys.map((entry) => entry.keyArn).join(", ") : "not configured",
    fix: "envelope encryption cannot be removed once on; a cluster without it must be re-created",
  });
  for (const key of observed.keys) {
    add({
      check: `KMS key ${key.keyId} rotation`,
      severity: "mandatory",
      ok: key.rotationEnabled && key.state === "Enabled",
      expected: "Enabled, automatic rotation on",
      actual: `${key.state}, rotation ${key.rotationEnabled ? "on" : "off"}`,
      fix: reapply,
    });
  }
  for (const key of observed.keys) {
    if (key.policy === undefined) continue;
    const foreign = foreignKeyPrincipals(key.policy, key.arn ?? "");
    add({
      check: `KMS key ${key.keyId} policy`,
      severity: "mandatory",
      ok: foreign.length === 0,
      expected: "use granted only inside the account (and to CloudWatch Logs)",
      actual: foreign.length === 0 ? "no grant outside the account" : `granted to ${list(foreign)}`,
      fix: reapply,
    });
  }
  if (cluster.authenticationMode !== undefined) {
    add({
      check: "authentication mode",
      severity: "mandatory",
      ok: cluster.authenticationMode === "API",
      expected: "API (access entries only, no aws-auth ConfigMap)",
      actual: cluster.authenticationMode,
      fix: reapply,
    });
  }
  add({
    check: "Kubernetes version",
    severity: "advisory",
    ok: cluster.version === config.cluster.kubernetesVersion,
    expected: config.cluster.kubernetesVersion,
    actual: cluster.version,
    fix: "EKS upgraded it (end of standard support) or someone did by hand: set cluster.kubernetesVersion to match, it can never go back",
  });
  if (cluster.supportType !== undefined) {
    add({
      check: "upgrade policy",
      severity: "advisory",
      ok: cluster.supportType === config.cluster.supportType,
      expected: config.cluster.supportType,
      actual: cluster.supportType,
      fix: reapply,
    });
  }
  if (cluster.deletionProtection !== undefined) {
    add({
      check: "deletion protection",
      severity: config.cluster.deletionProtection ? "mandatory" : "advisory",
      ok: cluster.deletionProtection === config.cluster.deletionProtection,
      expected: config.cluster.deletionProtection ? "on" : "off",
      actual: cluster.deletionProtection ? "on" : "off",
      fix: reapply,
    });
  }
  if (observed.accessEntries !== undefined)
    findings.push(...checkAccess(config, observed.accessEntries, cluster.roleArn));
  findings.push(...notCheckedFindings(observed.notChecked ?? []));
  findings.push(...checkLogGroup(config, observed.controlPlaneLogGroup));
  findings.push(...checkSubnets(config, observed.subnets));
  if (observed.flowLogs !== undefined) findings.push(checkFlowLogs(cluster.vpcId, observed.flowLogs));
  if (observed.clusterIngress !== undefined)
    findings.push(checkClusterIngress(config, observed.clusterIngress));
  for (const role of observed.roles ?? [])
    findings.push(...checkRole(role.expected, role.observed, config.environment));

  const leftovers = observed.leftovers;
  add({
    check: "unattached EBS volumes",
    severity: "advisory",
    ok: leftovers.volumes.every((volume) => volume.state !== "available"),
    expected: "none (a released PersistentVolume with reclaimPolicy Retain keeps costing)",
    actual: list(
      leftovers.volumes
        .filter((volume) => volume.state === "available")
        .map((volume) => `${volume.id} ${volume.sizeGiB} GiB`),
    ),
    fix: "delete the volumes you no longer need (`aws ec2 delete-volume --volume-id …`)",
  });
  add({
    check: "detached network interfaces",
    severity: "advisory",
    ok: leftovers.interfaces.length === 0,
    expected: "none of the cluster's (a leaked ENI blocks deleting its subnets and security group)",
    actual: list(leftovers.interfaces.map((eni) => `${eni.id} ${eni.description}`.trim())),
    fix: "delete them with `aws ec2 delete-network-interface` once you know what left them",
  });
  add({
    check: "load balancers created in-cluster",
    severity: "advisory",
    ok: true,
    expected: "informational",
    actual: list(leftovers.loadBalancers.map((lb) => `${lb.name} (${lb.type})`)),
  });
  return findings;
}

function checkAccess(
  config: PlatformConfig,
  entries: readonly ObservedAccessEntry[],
  clusterRoleArn: string | undefined,
): Finding[] {
  const findings: Finding[] = [];
  const grants = accessGrants(config.access);
  const byPrincipal = new Map(entries.map((entry) => [entry.principalArn, entry]));
  for (const grant of grants) {
    const entry = byPrincipal.get(grant.principalArn);
    findings.push(
      normalise({
        check: `access entry ${grant.principalArn}`,
        severity: "mandatory",
        ok: entry !== undefined && entry.policies.includes(grant.accessPolicy),
        expected: grant.accessPolicy,
        actual: entry ? list(entry.policies) : "no access entry",
        fix: reapply,
      }),
    );
  }
  // Node and service entries (type EC2, EC2_LINUX, …) are created by EKS itself; only people and CI get STANDARD.
  // So is the Argo CD capability role's entry (capability mode): the program only associates a policy with it.
  const capabilityEntries = entries.filter((entry) => isArgoCdCapabilityRole(config, entry.principalArn));
  if (config.gitops.argocd.install === "capability") {
    findings.push(
      normalise({
        check: "access entry of the Argo CD capability role (created by EKS)",
        severity: "mandatory",
        ok: capabilityEntries.some((entry) => entry.policies.includes("AmazonEKSClusterAdminPolicy")),
        expected: "AmazonEKSClusterAdminPolicy",
        actual:
          capabilityEntries.length > 0
            ? list(capabilityEntries.flatMap((entry) => entry.policies))
            : "no access entry",
        fix: reapply,
      }),
    );
  }
  const declared = new Set(grants.map((grant) => grant.principalArn));
  const extra = entries.filter(
    (entry) =>
      entry.type === "STANDARD" &&
      !declared.has(entry.principalArn) &&
      !capabilityEntries.includes(entry) &&
      // Auto Mode creates an entry for the cluster IAM role itself (EKS User Guide, auto-learn-iam).
      entry.principalArn !== clusterRoleArn,
  );
  findings.push(
    normalise({
      check: "undeclared access entries",
      severity: "mandatory",
      ok: extra.length === 0,
      expected: "only the principals in access.deployRoleArn, access.admins and access.viewers",
      actual:
        extra.length === 0
          ? "none"
          : extra.map((entry) => `${entry.principalArn} (${list(entry.policies)})`).join(", "),
      fix: "add the principal to the stack's access config, or delete the entry: `aws eks delete-access-entry`",
    }),
  );
  return findings;
}

/** The role EKS runs the Argo CD capability as (any account: the ARN's role name carries the cluster name). */
function isArgoCdCapabilityRole(config: PlatformConfig, principalArn: string): boolean {
  return (
    config.gitops.argocd.install === "capability" &&
    /^arn:aws[a-z-]*:iam::\d{12}:role\//.test(principalArn) &&
    principalArn.endsWith(`:role/${argoCdCapabilityRoleName(config.cluster.name)}`)
  );
}

function checkLogGroup(config: PlatformConfig, group: ObservedLogGroup | undefined): Finding[] {
  const name = controlPlaneLogGroupName(config.cluster.name);
  if (!group) {
    return [
      normalise({
        check: `log group ${name}`,
        severity: "mandatory",
        ok: false,
        expected: `exists with ${config.cluster.logRetentionDays} days retention`,
        actual: "missing",
        fix: reapply,
      }),
    ];
  }
  return [
    normalise({
      check: `log group ${name} retention`,
      severity: "mandatory",
      ok: group.retentionInDays === config.cluster.logRetentionDays,
      expected: `${config.cluster.logRetentionDays} days`,
      actual: group.retentionInDays === undefined ? "never expire" : `${group.retentionInDays} days`,
      fix: reapply,
    }),
    normalise({
      check: `log group ${name} encryption`,
      severity: "advisory",
      ok: group.kmsKeyId !== undefined,
      expected: "KMS-encrypted",
      actual: group.kmsKeyId ?? "AWS-owned key",
      fix: reapply,
    }),
  ];
}

/**
 * Principals an Allow statement of a key policy grants outside the key's account: "*" without a condition, or an
 * AWS principal of another account. The platform's policy (infra/cluster/encryption.ts) grants only the account
 * root and the regional CloudWatch Logs service.
 */
export function foreignKeyPrincipals(policy: string, keyArn: string): string[] {
  const account = keyArn.split(":")[4] ?? "";
  const statements = ([] as Record<string, unknown>[]).concat(
    (JSON.parse(policy) as { Statement?: unknown }).Statement as Record<string, unknown>[],
  );
  return statements
    .filter((statement) => statement.Effect === "Allow")
    .flatMap((statement) => {
      const principal = statement.Principal as string | Record<string, string | string[]> | undefined;
      if (principal === "*") return statement.Condition ? [] : ["*"];
      const aws = ([] as string[]).concat(
        (principal as Record<string, string | string[]> | undefined)?.AWS ?? [],
      );
      return aws.filter(
        (arn) =>
          (arn === "*" && !statement.Condition) ||
          (arn !== "*" && !arn.includes(`::${account}:`) && arn !== account),
      );
    });
}

type PolicyStatement = Record<string, unknown>;
const statementsOf = (document: string): PolicyStatement[] =>
  ([] as PolicyStatement[]).concat(
    ((JSON.parse(document) as { Statement?: unknown }).Statement ?? []) as PolicyStatement[],
  );
const valuesOf = (value: unknown): string[] => ([] as string[]).concat((value ?? []) as string | string[]);

/**
 * Principals an Allow statement of a role's trust policy names besides `service`: "*", an AWS account or role (of
 * any account: the platform's roles trust one AWS service only), a federated provider or another service.
 */
export function unexpectedTrustedPrincipals(trustPolicy: string, service: string): string[] {
  return statementsOf(trustPolicy)
    .filter((statement) => statement.Effect === "Allow")
    .flatMap((statement) => {
      const principal = statement.Principal as string | Record<string, unknown> | undefined;
      if (principal === undefined || typeof principal === "string") return [String(principal ?? "(none)")];
      return Object.entries(principal).flatMap(([type, values]) =>
        valuesOf(values)
          .filter((value) => !(type === "Service" && value === service))
          .map((value) => `${type}:${value}`),
      );
    });
}

/** What gives a role full access: AdministratorAccess attached, or an inline Allow of every action on every resource. */
export function adminGrants(role: ObservedRole): string[] {
  const attached = role.attachedPolicyArns.filter((arn) =>
    /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/.test(arn),
  );
  const inline = role.inlinePolicies
    .filter((policy) =>
      statementsOf(policy.document).some(
        (statement) =>
          statement.Effect === "Allow" &&
          valuesOf(statement.Action).some((action) => action === "*" || action === "*:*") &&
          valuesOf(statement.Resource).includes("*"),
      ),
    )
    .map((policy) => `inline ${policy.name} (* on *)`);
  return [...attached, ...inline];
}

/**
 * One platform role: it exists, trusts exactly its service, and holds no administrator grant. With `environment`
 * (a cluster stack's roles), it also carries its foundation's role boundary of that environment, named by its tag.
 */
export function checkRole(
  expected: PlatformRole,
  observed: ObservedRole | undefined,
  environment?: string,
): Finding[] {
  const check = `IAM role ${expected.name}`;
  if (!observed) {
    return [
      normalise({
        check,
        severity: "mandatory",
        ok: false,
        expected: `exists, trusted by ${expected.trustedService}`,
        actual: "missing",
        fix: reapply,
      }),
    ];
  }
  const foreign = unexpectedTrustedPrincipals(observed.trustPolicy, expected.trustedService);
  const trusted = statementsOf(observed.trustPolicy).some(
    (statement) =>
      statement.Effect === "Allow" &&
      valuesOf((statement.Principal as Record<string, unknown> | undefined)?.Service).includes(
        expected.trustedService,
      ),
  );
  return [
    normalise({
      check: `${check} trust`,
      severity: "mandatory",
      ok: trusted && foreign.length === 0,
      expected: `assumed by ${expected.trustedService} only`,
      actual:
        foreign.length > 0
          ? `also trusts ${list(foreign)}`
          : trusted
            ? `assumed by ${expected.trustedService}`
            : "no Allow for the service",
      fix: reapply,
    }),
    checkAdminGrants(check, observed),
    ...(environment === undefined ? [] : [checkBoundary(check, observed, environment)]),
  ];
}

/** A role's "permissions" finding: no AdministratorAccess attached, no inline * on *. */
export function checkAdminGrants(check: string, role: ObservedRole): Finding {
  const admin = adminGrants(role);
  return normalise({
    check: `${check} permissions`,
    severity: "mandatory",
    ok: admin.length === 0,
    expected: "no AdministratorAccess, no inline * on *",
    actual: admin.length === 0 ? "no administrator grant" : list(admin),
    fix: "detach the policy / delete the inline policy (`aws iam detach-role-policy`, `delete-role-policy`), then `pulumi up`",
  });
}

/** The boundary infra/identity/role-boundary.ts gives every role of a cluster stack: its environment's, tagged. */
function checkBoundary(check: string, role: ObservedRole, environment: string): Finding {
  const boundary = role.permissionsBoundaryArn;
  const suffix = `-${environment}-role-boundary`;
  const named =
    boundary !== undefined &&
    /^arn:aws[a-z-]*:iam::\d{12}:policy\//.test(boundary) &&
    boundary.endsWith(suffix);
  const tagged = role.tags?.[roleBoundaryTagKey];
  return normalise({
    check: `${check} permissions boundary`,
    severity: "mandatory",
    ok: named && tagged === boundary,
    expected: `the foundation's <namePrefix>${suffix}, also in the tag ${roleBoundaryTagKey}`,
    actual:
      boundary === undefined
        ? "none: the role is not bounded"
        : `${boundary}${tagged === boundary ? "" : `, tag ${roleBoundaryTagKey} = ${tagged ?? "(none)"}`}`,
    fix: reapply,
  });
}

/**
 * The API port of the cluster security group admits exactly `cluster.privateAccessCidrs` (infra/cluster); a CIDR
 * added by hand opens the private endpoint to more networks. Rules referencing security groups are EKS's own.
 */
function checkClusterIngress(config: PlatformConfig, rules: readonly ObservedIngressRule[]): Finding {
  const api = rules
    .filter(
      (rule) =>
        rule.cidrIpv4 !== undefined &&
        (rule.protocol === "-1" || (rule.protocol === "tcp" && rule.fromPort <= 443 && rule.toPort >= 443)),
    )
    .map((rule) => rule.cidrIpv4 as string);
  return normalise({
    check: "cluster security group ingress",
    severity: "mandatory",
    ok: sameSet(api, config.cluster.privateAccessCidrs),
    expected: `443 from ${list(config.cluster.privateAccessCidrs)} only`,
    actual: list(api),
    fix: reapply,
  });
}

/** The platform logs all VPC traffic to CloudWatch Logs (infra/network); anything less is drift. */
export function checkFlowLogs(vpcId: string, flowLogs: readonly ObservedFlowLog[]): Finding {
  const complete = flowLogs.filter(
    (log) =>
      log.trafficType === "ALL" && log.destinationType === "cloud-watch-logs" && log.status !== "FAILED",
  );
  return normalise({
    check: "VPC flow logs",
    severity: "mandatory",
    ok: complete.length > 0,
    expected: `a flow log of ALL traffic of ${vpcId} to CloudWatch Logs`,
    actual:
      flowLogs.length === 0
        ? "no flow log"
        : list(
            flowLogs.map((log) => `${log.id} ${log.trafficType} → ${log.destinationType} (${log.status})`),
          ),
    fix: reapply,
  });
}

function checkSubnets(config: PlatformConfig, subnets: readonly ObservedSubnet[]): Finding[] {
  const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
  const small = subnets.filter(
    (subnet) => parseCidr(subnet.cidrBlock).prefix > config.network.privateSubnetPrefix,
  );
  const publicIps = subnets.filter((subnet) => subnet.mapPublicIpOnLaunch);
  // Internal load balancers and the node pools' subnet selectors find these subnets by their tags.
  const wantedTags: Record<string, string> = {
    "kubernetes.io/role/internal-elb": "1",
    "karpenter.sh/discovery": config.cluster.name,
  };
  const untagged = subnets.filter(
    (subnet) =>
      subnet.tags !== undefined &&
      Object.entries(wantedTags).some(([key, value]) => subnet.tags?.[key] !== value),
  );
  const findings: Finding[] = [
    {
      check: "cluster subnets span AZs",
      severity: "mandatory",
      ok: zones.size >= config.network.availabilityZoneCount,
      expected: `at least ${config.network.availabilityZoneCount} AZs`,
      actual: `${zones.size} (${list([...zones])})`,
      fix: reapply,
    },
    {
      check: "cluster subnet size",
      severity: "mandatory",
      ok: small.length === 0,
      expected: `/${config.network.privateSubnetPrefix} or larger (pod IPs come from these subnets)`,
      actual:
        small.length === 0
          ? list(subnets.map((subnet) => subnet.cidrBlock))
          : `too small: ${list(small.map((s) => `${s.id} ${s.cidrBlock}`))}`,
      fix: reapply,
    },
    {
      check: "cluster subnets are private",
      severity: "mandatory",
      ok: publicIps.length === 0,
      expected: "no public IPs on launch",
      actual:
        publicIps.length === 0
          ? "none assign public IPs"
          : `public IPs on ${list(publicIps.map((subnet) => subnet.id))}`,
      fix: reapply,
    },
    {
      check: "cluster subnet tags",
      severity: "mandatory",
      ok: untagged.length === 0,
      expected: Object.entries(wantedTags)
        .map(([key, value]) => `${key}=${value}`)
        .join(", "),
      actual:
        untagged.length === 0
          ? "present on every cluster subnet"
          : `missing or different on ${list(untagged.map((subnet) => subnet.id))}`,
      fix: reapply,
    },
  ];
  return findings.map(normalise);
}

/** Non-zero when any mandatory check failed. */
export function exitCodeFor(findings: readonly Finding[]): number {
  return findings.some((finding) => !finding.ok && finding.severity === "mandatory") ? 1 : 0;
}

export function formatFindings(stack: string, findings: readonly Finding[]): string {
  const drifts = findings.filter((finding) => !finding.ok);
  const mark = (finding: Finding) =>
    finding.notChecked
      ? "skip "
      : finding.ok
        ? "ok   "
        : finding.severity === "mandatory"
          ? "DRIFT"
          : "warn ";
  const lines = findings.map(
    (finding) =>
      `${mark(finding)} ${finding.check}: ${finding.ok ? finding.actual : `expected ${finding.expected}, found ${finding.actual}`}` +
      (finding.fix ? `\n      fix: ${finding.fix}` : ""),
  );
  const mandatory = drifts.filter((finding) => finding.severity === "mandatory").length;
  return [
    `Live check of stack ${stack}: ${findings.length} checks, ${mandatory} mandatory drift(s), ${drifts.length - mandatory} warning(s)`,
    ...lines,
  ].join("\n");
}

/** What the endpoint could not read: reported as not checked (advisory), never as a pass or a drift. */
export function notCheckedFindings(
  skipped: readonly { readonly check: string; readonly reason: string }[],
): Finding[] {
  return skipped.map((entry) => ({
    check: entry.check,
    severity: "advisory",
    ok: true,
    notChecked: true,
    expected: "",
    actual: `not checked: ${entry.reason}`,
  }));
}
