import { cidrContains } from "../../infra/config/cidr";
import {
  environmentSubject,
  githubOidcHost,
  githubTrustPolicy,
  pullRequestSubject,
  roleBoundaryArn,
  roleBoundaryPolicy,
  stsAudience,
} from "../../infra/foundation/ci-policies";
import type { FoundationConfig } from "../../infra/foundation/config";
import {
  ciNames,
  FoundationEnvironment,
  FoundationEnvironmentOutputs,
  foundationGitHubEnvironment,
  FoundationOutputs,
  partitionOf,
  roleArn,
} from "../../infra/foundation/contract";
import { runnerWebhookFilterGroups } from "../../infra/foundation/runner";
import { checkAdminGrants, checkFlowLogs, checkRole, Finding, normalise, notCheckedFindings } from "./checks";
import type { ObservedFlowLog, ObservedLogGroup, ObservedRole, ObservedSubnet } from "./inventory";

/**
 * The live check of a foundation stack (one per AWS account and region): what its outputs name, read back from AWS
 * and compared with what `foundation/Pulumi.<stack>.yaml` promises. Pure, like checkStack: one finding per check.
 */

export interface ObservedVpc {
  readonly id: string;
  readonly cidrBlock: string;
  /** Every IPv4 block of the VPC (the primary too), with its association state. */
  readonly blocks: readonly { readonly cidr: string; readonly state: string }[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface ObservedRouteTable {
  readonly id: string;
  readonly main: boolean;
  readonly subnetIds: readonly string[];
  /** Destination CIDR → target id (`nat-…`, `igw-…`, `local`, …). */
  readonly routes: readonly { readonly destination: string; readonly target: string }[];
}

export interface ObservedSecurityGroupRule {
  readonly egress: boolean;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** A CIDR, a prefix list or a security group: what the rule admits. */
  readonly peer: string;
}

export interface ObservedWebhookFilter {
  readonly type: string;
  readonly pattern: string;
  readonly excludeMatchedPattern?: boolean;
}

export interface ObservedRunnerProject {
  readonly name: string;
  readonly serviceRole: string;
  readonly sourceType: string;
  readonly sourceLocation: string;
  readonly vpcId?: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** logsConfig.cloudWatchLogs. */
  readonly cloudWatchLogs?: { readonly status: string; readonly groupName?: string };
  readonly encryptionKey?: string;
  /** undefined: the project has no webhook, so no queued job ever starts it. */
  readonly webhook?: { readonly filterGroups: readonly (readonly ObservedWebhookFilter[])[] };
}

export interface ObservedOidcProvider {
  readonly arn: string;
  /** As IAM reports it: host and path, without https://. */
  readonly url: string;
  readonly clientIds: readonly string[];
}

/** What AWS holds for one environment the foundation serves. */
export interface ObservedFoundationEnvironment {
  readonly name: FoundationEnvironment;
  readonly outputs?: FoundationEnvironmentOutputs;
  readonly project?: ObservedRunnerProject;
  /** undefined when not read (see notChecked). */
  readonly securityGroupRules?: readonly ObservedSecurityGroupRule[];
  readonly logGroup?: ObservedLogGroup;
  /** The managed policy at the outputs' roleBoundaryArn (undefined: no such policy). */
  readonly roleBoundary?: { readonly arn: string; readonly document: string };
  readonly runnerRole?: ObservedRole;
  readonly deployRole?: ObservedRole;
  readonly previewRole?: ObservedRole;
}

export interface FoundationObservation {
  readonly vpc?: ObservedVpc;
  /** Every subnet of the VPC. */
  readonly subnets: readonly ObservedSubnet[];
  readonly routeTables: readonly ObservedRouteTable[];
  readonly flowLogs?: readonly ObservedFlowLog[];
  /** undefined: no such provider (or not read, see notChecked). */
  readonly oidcProvider?: ObservedOidcProvider;
  readonly environments: readonly ObservedFoundationEnvironment[];
  /** The foundation's own CI roles (`<namePrefix>-foundation-deploy` / `-preview`). */
  readonly foundationRoles: { readonly deploy?: ObservedRole; readonly preview?: ObservedRole };
  readonly notChecked: readonly { readonly check: string; readonly reason: string }[];
}

/** The notChecked entry when the endpoint cannot read CodeBuild projects. */
export const runnerProjectsCheck = "runner CodeBuild projects";

const list = (values: readonly string[]) => (values.length === 0 ? "(none)" : [...values].sort().join(", "));
const reapply =
  "run `pulumi up` on the foundation stack (in foundation/) to put it back, or change its stack file if the change was meant";

/** The OIDC provider the CI roles trust: the configured one, or the one the foundation declares. */
export function oidcProviderArn(config: FoundationConfig): string {
  return (
    config.github.oidcProviderArn ??
    `arn:${partitionOf(config.region)}:iam::${config.accountId}:oidc-provider/${githubOidcHost}`
  );
}

/** The role name of a role ARN (`…:role/path/name` → `name`). */
export function roleNameOf(arn: string): string {
  return arn.split("/").pop() ?? arn;
}

/** Canonical JSON: keys sorted, one-element arrays as their element, arrays sorted (IAM treats them as sets). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    if (items.length === 1) return items[0];
    return items.map((item) => JSON.stringify(item)).sort();
  }
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => key !== "Sid")
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, item]) => [key, canonical(item)]),
    );
  return value;
}

/** True when two IAM policy documents (JSON text or objects) say the same, whatever key order or one-element arrays. */
export function samePolicyDocument(a: unknown, b: unknown): boolean {
  const parse = (document: unknown) =>
    typeof document === "string" ? (JSON.parse(document) as unknown) : document;
  try {
    return JSON.stringify(canonical(parse(a))) === JSON.stringify(canonical(parse(b)));
  } catch {
    return false;
  }
}

/**
 * A CI role's trust, exactly: its only Allow statement is githubTrustPolicy's (this provider, `aud` = STS, `sub` =
 * this subject, StringEquals, no wildcard). Returns what differs, or [] when it matches.
 */
export function githubTrustDrift(trustPolicy: string, providerArn: string, subject: string): string[] {
  let statements: unknown[];
  try {
    statements = ([] as unknown[]).concat(
      (JSON.parse(trustPolicy) as { Statement?: unknown }).Statement ?? [],
    );
  } catch {
    return ["the trust policy is not JSON"];
  }
  const allows = statements.filter((statement) => (statement as { Effect?: string }).Effect === "Allow");
  const expected = JSON.stringify(canonical(githubTrustPolicy(providerArn, subject).Statement[0]));
  if (allows.length === 0) return ["no Allow statement"];
  return allows
    .filter((statement) => JSON.stringify(canonical(statement)) !== expected)
    .map((statement) => `Allow ${JSON.stringify(statement)}`);
}

/** Findings for one CI role: it exists, trusts exactly GitHub with this subject, and holds no admin grant. */
function checkCiRole(
  label: string,
  arn: string,
  role: ObservedRole | undefined,
  providerArn: string,
  subject: string,
): Finding[] {
  const check = `IAM role ${roleNameOf(arn)} (${label})`;
  if (!role)
    return [
      normalise({
        check,
        severity: "mandatory",
        ok: false,
        expected: "exists",
        actual: "missing",
        fix: reapply,
      }),
    ];
  const drift = githubTrustDrift(role.trustPolicy, providerArn, subject);
  return [
    normalise({
      check: `${check} trust`,
      severity: "mandatory",
      ok: drift.length === 0,
      expected: `only ${providerArn} with ${githubOidcHost}:aud = ${stsAudience} and :sub = ${subject} (StringEquals)`,
      actual: drift.length === 0 ? "exactly that" : drift.join("; "),
      fix: reapply,
    }),
    checkAdminGrants(check, role),
  ];
}

/** Compares a foundation stack's outputs and what AWS holds for them with its stack file. */
export function checkFoundationStack(
  config: FoundationConfig,
  outputs: FoundationOutputs,
  observed: FoundationObservation,
): Finding[] {
  const findings: Finding[] = [];
  const add = (finding: Finding) => findings.push(normalise(finding));
  const file = `foundation/Pulumi.${config.stack}.yaml`;

  const outputDrift = [
    ...(outputs.accountId !== config.accountId ? [`accountId ${outputs.accountId}`] : []),
    ...(outputs.region !== config.region ? [`region ${outputs.region}`] : []),
    ...(outputs.vpcCidr !== config.network.vpcCidr ? [`vpcCidr ${outputs.vpcCidr}`] : []),
    ...(list(outputs.clusterCidrs) !== list(config.network.clusterCidrs)
      ? [`clusterCidrs ${list(outputs.clusterCidrs)}`]
      : []),
    ...(list(Object.keys(outputs.environments)) !== list(config.environments.map((entry) => entry.name))
      ? [`environments ${list(Object.keys(outputs.environments))}`]
      : []),
  ];
  add({
    check: "stack outputs match the stack file",
    severity: "mandatory",
    ok: outputDrift.length === 0,
    expected: `${file}: account ${config.accountId}, ${config.region}, ${config.network.vpcCidr} + ${list(config.network.clusterCidrs)}, environments ${list(config.environments.map((entry) => entry.name))}`,
    actual: outputDrift.length === 0 ? "the same" : `the outputs say ${outputDrift.join("; ")}`,
    fix: "the stack file changed since the last `pulumi up` of the foundation, or the outputs are another stack's: deploy it, or pass this stack's outputs",
  });

  const vpc = observed.vpc;
  add({
    check: `VPC ${outputs.vpcId}`,
    severity: "mandatory",
    ok: vpc !== undefined,
    expected: "exists",
    actual: vpc ? `exists, ${vpc.cidrBlock}` : "missing",
    fix: reapply,
  });
  if (vpc) {
    const associated = vpc.blocks.filter((block) => block.state === "associated").map((block) => block.cidr);
    const missing = [outputs.vpcCidr, ...outputs.clusterCidrs].filter((block) => !associated.includes(block));
    add({
      check: "VPC blocks",
      severity: "mandatory",
      ok: vpc.cidrBlock === outputs.vpcCidr && missing.length === 0,
      expected: `primary ${outputs.vpcCidr}, one block per cluster: ${list(outputs.clusterCidrs)}`,
      actual:
        vpc.cidrBlock !== outputs.vpcCidr
          ? `primary ${vpc.cidrBlock}`
          : missing.length === 0
            ? list(associated)
            : `not associated: ${list(missing)}`,
      fix: reapply,
    });
    const untagged = Object.entries(config.tags).filter(([key, value]) => vpc.tags[key] !== value);
    add({
      check: "VPC tags",
      severity: "mandatory",
      ok: untagged.length === 0,
      expected: Object.entries(config.tags)
        .map(([key, value]) => `${key}=${value}`)
        .join(", "),
      actual:
        untagged.length === 0
          ? "present (layer=foundation keeps cluster deploy roles from changing it)"
          : `missing or different: ${untagged.map(([key]) => `${key}=${vpc.tags[key] ?? "(none)"}`).join(", ")}`,
      fix: reapply,
    });
  }

  // layer=foundation (with the other stack tags) is what keeps the cluster deploy roles from changing them.
  const foundationTagged = (subnet: ObservedSubnet) =>
    Object.entries(config.tags).every(([key, value]) => subnet.tags?.[key] === value);
  // Runner subnets: private, in the primary block, one per AZ, and no way to or from the internet but NAT.
  const byId = new Map(observed.subnets.map((subnet) => [subnet.id, subnet]));
  const runnerSubnets = outputs.runnerSubnetIds.map((id) => byId.get(id));
  const absent = outputs.runnerSubnetIds.filter((id) => !byId.has(id));
  const misplaced = runnerSubnets.filter(
    (subnet): subnet is ObservedSubnet =>
      subnet !== undefined &&
      (subnet.vpcId !== outputs.vpcId ||
        !cidrContains(outputs.vpcCidr, subnet.cidrBlock) ||
        subnet.mapPublicIpOnLaunch ||
        subnet.tags?.tier !== "runner" ||
        !foundationTagged(subnet)),
  );
  const zones = new Set(runnerSubnets.map((subnet) => subnet?.availabilityZone));
  add({
    check: "runner subnets",
    severity: "mandatory",
    ok:
      absent.length === 0 &&
      misplaced.length === 0 &&
      outputs.availabilityZones.every((zone) => zones.has(zone)),
    expected: `one per AZ (${list(outputs.availabilityZones)}), in ${outputs.vpcCidr}, no public IPs on launch, tier=runner and the foundation tags`,
    actual:
      absent.length > 0
        ? `missing ${list(absent)}`
        : misplaced.length > 0
          ? `wrong: ${list(misplaced.map((subnet) => `${subnet.id} ${subnet.cidrBlock}${subnet.mapPublicIpOnLaunch ? " public IPs" : ""}`))}`
          : `${list([...zones].filter((zone): zone is string => zone !== undefined))}`,
    fix: reapply,
  });
  const tableOf = (subnetId: string) =>
    observed.routeTables.find((table) => table.subnetIds.includes(subnetId)) ??
    observed.routeTables.find((table) => table.main);
  const publicPaths = outputs.runnerSubnetIds.flatMap((subnetId) => {
    const table = tableOf(subnetId);
    if (!table) return [`${subnetId}: no route table`];
    const toInternet = table.routes.filter((route) => route.target.startsWith("igw-"));
    const egress = table.routes.find((route) => route.destination === "0.0.0.0/0");
    return [
      ...toInternet.map((route) => `${subnetId}: ${route.destination} → ${route.target}`),
      ...(egress && !outputs.natGatewayIds.includes(egress.target)
        ? [`${subnetId}: 0.0.0.0/0 → ${egress.target}, not the foundation's NAT`]
        : []),
      ...(egress ? [] : [`${subnetId}: no default route (builds cannot reach GitHub)`]),
    ];
  });
  add({
    check: "runner subnets route out through NAT only",
    severity: "mandatory",
    ok: publicPaths.length === 0,
    expected: `0.0.0.0/0 → the foundation's NAT gateway (${list(outputs.natGatewayIds)}), no internet gateway route`,
    actual: publicPaths.length === 0 ? "no public path" : publicPaths.join("; "),
    fix: reapply,
  });
  const badPublic = outputs.publicSubnetIds.filter((id) => {
    const subnet = byId.get(id);
    return (
      !subnet ||
      subnet.mapPublicIpOnLaunch ||
      subnet.tags?.["kubernetes.io/role/elb"] !== "1" ||
      !foundationTagged(subnet)
    );
  });
  add({
    check: "public subnets",
    severity: "mandatory",
    ok: badPublic.length === 0,
    expected:
      "exist, hand out no public IPs on launch, tagged kubernetes.io/role/elb=1 and with the foundation tags",
    actual: badPublic.length === 0 ? list(outputs.publicSubnetIds) : `wrong or missing: ${list(badPublic)}`,
    fix: reapply,
  });
  if (observed.flowLogs !== undefined) findings.push(checkFlowLogs(outputs.vpcId, observed.flowLogs));

  const providerArn = oidcProviderArn(config);
  if (!observed.notChecked.some((skipped) => skipped.check === "GitHub OIDC provider")) {
    const provider = observed.oidcProvider;
    add({
      check: "GitHub OIDC provider",
      severity: "mandatory",
      ok:
        provider !== undefined &&
        provider.url.replace(/^https:\/\//, "") === githubOidcHost &&
        provider.clientIds.includes(stsAudience),
      expected: `${providerArn}, audience ${stsAudience}`,
      actual: provider
        ? `${provider.url}, audiences ${list(provider.clientIds)}`
        : "missing: no role can be assumed from GitHub",
      fix: config.github.oidcProviderArn
        ? "the configured github.oidcProviderArn does not exist: fix it, or remove it so the foundation declares one"
        : reapply,
    });
    if (provider && provider.clientIds.some((id) => id !== stsAudience))
      add({
        check: "GitHub OIDC provider audiences",
        severity: "advisory",
        ok: false,
        expected: stsAudience,
        actual: list(provider.clientIds),
        fix: "another audience is harmless to these roles (they require aud = sts.amazonaws.com) but worth knowing about",
      });
  }

  for (const environment of observed.environments) {
    const names = ciNames(config.namePrefix, environment.name);
    const wanted = environment.outputs;
    if (!wanted) {
      add({
        check: `${environment.name}: runner and CI roles in the outputs`,
        severity: "mandatory",
        ok: false,
        expected: `environments.${environment.name} in the stack outputs`,
        actual: "absent",
        fix: "deploy the foundation: the stack file serves this environment but the stack does not yet",
      });
      continue;
    }
    // Not read (see notChecked) is neither a pass nor a missing project.
    if (!observed.notChecked.some((skipped) => skipped.check === runnerProjectsCheck))
      findings.push(...checkRunner(config, outputs, environment, wanted, names));
    findings.push(...checkRunnerSecurityGroup(environment, wanted));
    findings.push(checkRoleBoundary(config, environment, wanted));
    findings.push(
      ...checkRole(
        { name: names.runnerRole, trustedService: "codebuild.amazonaws.com" },
        environment.runnerRole,
      ),
      ...checkCiRole(
        `${environment.name} deploy`,
        wanted.deployRoleArn,
        environment.deployRole,
        providerArn,
        environmentSubject(config.github.repository, environment.name),
      ),
      ...checkCiRole(
        `${environment.name} preview`,
        wanted.previewRoleArn,
        environment.previewRole,
        providerArn,
        pullRequestSubject(config.github.repository),
      ),
    );
  }
  const own = ciNames(config.namePrefix, "foundation");
  const ownArn = (name: string) => roleArn(config.accountId, config.region, name);
  findings.push(
    ...checkCiRole(
      "foundation deploy",
      ownArn(own.deployRole),
      observed.foundationRoles.deploy,
      providerArn,
      environmentSubject(config.github.repository, foundationGitHubEnvironment(config.stack)),
    ),
    ...checkCiRole(
      "foundation preview",
      ownArn(own.previewRole),
      observed.foundationRoles.preview,
      providerArn,
      pullRequestSubject(config.github.repository),
    ),
  );
  findings.push(...notCheckedFindings(observed.notChecked));
  return findings;
}

/** The CodeBuild runner of one environment: placement, source, logs, webhook and security group. */
function checkRunner(
  config: FoundationConfig,
  outputs: FoundationOutputs,
  environment: ObservedFoundationEnvironment,
  wanted: FoundationEnvironmentOutputs,
  names: ReturnType<typeof ciNames>,
): Finding[] {
  const findings: Finding[] = [];
  const add = (finding: Finding) => findings.push(normalise(finding));
  const label = `runner ${wanted.runnerProject}`;
  const project = environment.project;
  if (!project)
    return [
      normalise({
        check: label,
        severity: "mandatory",
        ok: false,
        expected: "a CodeBuild project",
        actual: "missing: jobs of this environment wait forever for their runner",
        fix: reapply,
      }),
    ];
  const foreignSubnets = project.subnetIds.filter((id) => !outputs.runnerSubnetIds.includes(id));
  const groupsOk =
    project.securityGroupIds.length === 1 && project.securityGroupIds[0] === wanted.runnerSecurityGroupId;
  add({
    check: `${label} placement`,
    severity: "mandatory",
    ok:
      project.vpcId === outputs.vpcId &&
      project.subnetIds.length > 0 &&
      foreignSubnets.length === 0 &&
      groupsOk,
    expected: `in ${outputs.vpcId}, runner subnets only (${list(outputs.runnerSubnetIds)}), security group ${wanted.runnerSecurityGroupId} only`,
    actual:
      project.vpcId === undefined
        ? "not in a VPC: builds run on CodeBuild's public network and cannot reach the private cluster endpoint"
        : `in ${project.vpcId}, subnets ${list(project.subnetIds)}${foreignSubnets.length > 0 ? ` (not runner subnets: ${list(foreignSubnets)})` : ""}, security groups ${list(project.securityGroupIds)}`,
    fix: reapply,
  });
  const location = `https://github.com/${config.github.repository}.git`;
  add({
    check: `${label} source`,
    severity: "mandatory",
    ok: project.sourceType === "GITHUB" && project.sourceLocation === location,
    expected: `GITHUB ${location}`,
    actual: `${project.sourceType} ${project.sourceLocation}`,
    fix: reapply,
  });
  const serviceRole = roleArn(config.accountId, config.region, names.runnerRole);
  add({
    check: `${label} service role`,
    severity: "mandatory",
    ok: project.serviceRole === serviceRole,
    expected: serviceRole,
    actual: project.serviceRole,
    fix: reapply,
  });
  const groupName = `/aws/codebuild/${wanted.runnerProject}`;
  const logs = project.cloudWatchLogs;
  const group = environment.logGroup;
  add({
    check: `${label} logs`,
    severity: "mandatory",
    ok:
      logs?.status === "ENABLED" &&
      logs.groupName === groupName &&
      group !== undefined &&
      group.kmsKeyId !== undefined &&
      group.retentionInDays === config.runner.logRetentionDays,
    expected: `to ${groupName}, KMS-encrypted, ${config.runner.logRetentionDays} days`,
    actual: [
      logs
        ? `CloudWatch Logs ${logs.status}${logs.groupName ? ` to ${logs.groupName}` : ""}`
        : "no logs config",
      group
        ? `log group ${group.kmsKeyId ? `encrypted with ${group.kmsKeyId}` : "not KMS-encrypted"}, ${group.retentionInDays ?? "never expire"} days`
        : "no log group",
    ].join("; "),
    fix: reapply,
  });
  add({
    check: `${label} encryption key`,
    severity: "advisory",
    ok: project.encryptionKey !== undefined && !project.encryptionKey.endsWith(":alias/aws/s3"),
    expected: "the foundation's KMS key (not the AWS-managed alias/aws/s3)",
    actual: project.encryptionKey ?? "none",
    fix: reapply,
  });
  // Exactly the program's groups: EVENT alone would start a build for any job naming the label, a fork's too.
  const render = (groups: readonly (readonly ObservedWebhookFilter[])[]) =>
    groups
      .map(
        (group) =>
          `[${group
            .map((filter) => `${filter.excludeMatchedPattern ? "not " : ""}${filter.type} ${filter.pattern}`)
            .sort()
            .join(", ")}]`,
      )
      .sort()
      .join(" ");
  const expectedGroups = render(
    // Plain values, though typed as Pulumi inputs.
    runnerWebhookFilterGroups(config.github.runnerActorIds).map((group) =>
      (group.filters as ObservedWebhookFilter[]).map((filter) => ({
        type: String(filter.type),
        pattern: String(filter.pattern),
        excludeMatchedPattern: filter.excludeMatchedPattern === true,
      })),
    ),
  );
  const actualGroups = project.webhook ? render(project.webhook.filterGroups) : undefined;
  add({
    check: `${label} webhook`,
    severity: "mandatory",
    ok: actualGroups === expectedGroups,
    expected: `a webhook with the filter groups ${expectedGroups}`,
    actual:
      actualGroups === undefined
        ? "no webhook: queued jobs never start a runner build"
        : `filter groups ${actualGroups || "(none)"}`,
    fix: reapply,
  });
  return findings;
}

/** The runner's security group: nothing may reach the build, and the build reaches out over HTTPS only. */
function checkRunnerSecurityGroup(
  environment: ObservedFoundationEnvironment,
  wanted: FoundationEnvironmentOutputs,
): Finding[] {
  if (environment.securityGroupRules === undefined) return [];
  const findings: Finding[] = [];
  const add = (finding: Finding) => findings.push(normalise(finding));
  const rules = environment.securityGroupRules;
  const ingress = rules.filter((rule) => !rule.egress);
  const egress = rules.filter((rule) => rule.egress);
  const otherEgress = egress.filter(
    (rule) => !(rule.protocol === "tcp" && rule.fromPort === 443 && rule.toPort === 443),
  );
  const describe = (rule: ObservedSecurityGroupRule) =>
    `${rule.protocol === "-1" ? "all" : `${rule.protocol} ${rule.fromPort}-${rule.toPort}`} ${rule.egress ? "to" : "from"} ${rule.peer}`;
  add({
    check: `runner security group ${wanted.runnerSecurityGroupId}`,
    severity: "mandatory",
    ok: ingress.length === 0 && otherEgress.length === 0 && egress.length > 0,
    expected: "no ingress; egress HTTPS (tcp 443) only",
    actual: rules.length === 0 ? "no rules (or no such group)" : list(rules.map(describe)),
    fix: reapply,
  });
  return findings;
}

/**
 * The permissions boundary every role of the environment's cluster stacks carries: the policy the outputs name is
 * the foundation's own, and says exactly what roleBoundaryPolicy says (a widened boundary widens every such role).
 */
function checkRoleBoundary(
  config: FoundationConfig,
  environment: ObservedFoundationEnvironment,
  wanted: FoundationEnvironmentOutputs,
): Finding {
  const iam = {
    partition: partitionOf(config.region),
    accountId: config.accountId,
    namePrefix: config.namePrefix,
    environments: config.environments.map((entry) => entry.name),
  };
  const expectedArn = roleBoundaryArn(iam, environment.name);
  const boundary = environment.roleBoundary;
  const sameDocument =
    boundary !== undefined &&
    samePolicyDocument(
      boundary.document,
      roleBoundaryPolicy({
        ...iam,
        region: config.region,
        environment: environment.name,
        clusters: config.environments.find((entry) => entry.name === environment.name)?.clusters ?? [],
      }),
    );
  return normalise({
    check: `role boundary ${roleNameOf(expectedArn)}`,
    severity: "mandatory",
    ok: wanted.roleBoundaryArn === expectedArn && sameDocument,
    expected: `${expectedArn}, exactly the program's boundary (infra/foundation/ci-policies.ts roleBoundaryPolicy)`,
    actual:
      wanted.roleBoundaryArn !== expectedArn
        ? `the outputs name ${wanted.roleBoundaryArn}`
        : !boundary
          ? "missing: cluster stacks of this environment cannot create roles"
          : sameDocument
            ? "the program's document"
            : "a different document (edited by hand?)",
    fix: reapply,
  });
}
