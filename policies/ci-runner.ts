import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { statementsOf } from "./lib/iam-documents";
import { atPath, elements, isUnknown, show, tag, UNKNOWN } from "./lib/values";

/**
 * Guardrails for in-VPC CI runners (AWS CodeBuild-hosted GitHub Actions runners, as the foundation layer declares
 * them). A runner executes pull-request code inside the VPC, next to private API endpoints: its own role must not be
 * a way into the account, it must not be reachable from or exposed to the internet, and what it logs must be
 * encrypted. Stack policies, because the project's role, subnets and log group are other resources of the stack.
 */

const projectType = "aws:codebuild/project:Project";
const roleType = "aws:iam/role:Role";
const subnetType = "aws:ec2/subnet:Subnet";
const inlinePolicyType = "aws:iam/rolePolicy:RolePolicy";
const attachmentType = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const routeType = "aws:ec2/route:Route";
const associationType = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const internetGatewayType = "aws:ec2/internetGateway:InternetGateway";
const logGroupType = "aws:cloudwatch/logGroup:LogGroup";

/** Managed policies a runner role must never carry: each one hands PR code the account (or its IAM). */
const adminPolicies = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];
/** Actions on a runner role that let PR code escalate or leave its lane, even when scoped to a resource. */
const escalatingAction = /^(\*|iam:.*|sts:AssumeRole.*|organizations:.*)$/i;

function dependsOn(resource: PolicyResource, property: string, type: string): PolicyResource[] {
  return (resource.propertyDependencies[property] ?? []).filter((candidate) => candidate.type === type);
}

function actionsOf(document: unknown): string[] | undefined {
  const statements = statementsOf(document);
  if (statements === undefined || statements === UNKNOWN) return undefined;
  return statements
    .filter((statement) => statement.effect === "Allow")
    .flatMap((statement) =>
      // NotAction on Allow grants everything else: as wide as "*".
      statement.notActions.length > 0 ? ["*"] : statement.actions,
    );
}

export const ciRunnerRoleNotAdmin: StackValidationPolicy = {
  name: "ci-runner-role-not-admin",
  description:
    "A CodeBuild runner's service role runs pull-request code: give it only its logs, its network interface, the source connection and its key; never AdministratorAccess, PowerUserAccess, IAMFullAccess, or any iam:*, sts:AssumeRole* or * action (jobs get AWS rights by OIDC).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const project of args.resources.filter((resource) => resource.type === projectType)) {
      for (const role of dependsOn(project, "serviceRole", roleType)) {
        const onRole = (resource: PolicyResource) =>
          dependsOn(resource, "role", roleType).some((candidate) => candidate.urn === role.urn);
        for (const attachment of args.resources.filter((r) => r.type === attachmentType && onRole(r))) {
          const arn = atPath(attachment.props, "policyArn");
          const name = typeof arn === "string" ? arn.split("/").pop() : undefined;
          if (name && adminPolicies.includes(name))
            reportViolation(
              `The runner role of ${project.name} has ${show(arn)} attached: any pull request could act with it; detach it (jobs assume their environment's role by OIDC).`,
              attachment.urn,
            );
        }
        const inline = args.resources.filter((r) => r.type === inlinePolicyType && onRole(r));
        for (const policy of inline) {
          const risky = (actionsOf(atPath(policy.props, "policy")) ?? []).filter((action) =>
            escalatingAction.test(action),
          );
          if (risky.length > 0)
            reportViolation(
              `The runner role of ${project.name} allows ${risky.join(", ")}: a pull request could escalate through it; keep logs, network-interface, connection and key actions only.`,
              policy.urn,
            );
        }
      }
    }
  },
};

export const ciRunnerPrivateSubnets: StackValidationPolicy = {
  name: "ci-runner-private-subnets",
  description:
    "A CodeBuild runner must run inside the VPC, in private subnets only: set vpcConfig with subnets that map no public IPs and route to the internet through NAT, never through an internet gateway.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const igwRouteTables = new Set(
      args.resources
        .filter(
          (route) =>
            route.type === routeType &&
            (dependsOn(route, "gatewayId", internetGatewayType).length > 0 ||
              String(atPath(route.props, "gatewayId") ?? "").startsWith("igw-")),
        )
        .flatMap((route) => (route.propertyDependencies.routeTableId ?? []).map((table) => table.urn)),
    );
    const publicReason = (subnet: PolicyResource): string | undefined => {
      if (atPath(subnet.props, "mapPublicIpOnLaunch") === true) return "maps public IPs on launch";
      if (tag(subnet.props, "kubernetes.io/role/elb") === "1") return "is a public (load balancer) subnet";
      const routed = args.resources.some(
        (association) =>
          association.type === associationType &&
          dependsOn(association, "subnetId", subnetType).some((candidate) => candidate.urn === subnet.urn) &&
          (association.propertyDependencies.routeTableId ?? []).some((table) =>
            igwRouteTables.has(table.urn),
          ),
      );
      return routed ? "routes to an internet gateway" : undefined;
    };
    for (const project of args.resources.filter((resource) => resource.type === projectType)) {
      const vpcConfig = atPath(project.props, "vpcConfig");
      if (isUnknown(vpcConfig)) continue;
      const subnetIds = elements(atPath(vpcConfig, "subnets"));
      if (
        vpcConfig === undefined ||
        (subnetIds !== undefined && !isUnknown(subnetIds) && subnetIds.length === 0)
      ) {
        reportViolation(
          `CodeBuild project ${project.name} has no vpcConfig: its builds run outside the VPC, cannot reach the private API endpoint and leave from AWS-owned addresses; set vpcConfig with the private runner subnets and a security group.`,
          project.urn,
        );
        continue;
      }
      for (const subnet of dependsOn(project, "vpcConfig", subnetType)) {
        const reason = publicReason(subnet);
        if (reason)
          reportViolation(
            `CodeBuild project ${project.name} runs in subnet ${subnet.name}, which ${reason}; use private subnets (egress through NAT, no public IPs).`,
            project.urn,
          );
      }
    }
  },
};

export const ciRunnerLogsEncrypted: StackValidationPolicy = {
  name: "ci-runner-logs-encrypted",
  description:
    "A CodeBuild runner's build logs and artifacts hold job output (plans, diffs, tokens printed by mistake): set encryptionKey to a customer KMS key and send logs to a log group encrypted with one (kmsKeyId); never disable S3 log encryption.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((resource) => resource.type === logGroupType);
    for (const project of args.resources.filter((resource) => resource.type === projectType)) {
      const key = atPath(project.props, "encryptionKey");
      if (key === undefined || key === "" || (typeof key === "string" && key.includes("alias/aws/")))
        reportViolation(
          `CodeBuild project ${project.name} has no customer encryptionKey (${show(key)}); set it to the foundation's KMS key.`,
          project.urn,
        );
      if (atPath(project.props, "logsConfig", "s3Logs", "encryptionDisabled") === true)
        reportViolation(
          `CodeBuild project ${project.name} disables S3 log encryption; remove encryptionDisabled.`,
          project.urn,
        );
      const cloudwatch = atPath(project.props, "logsConfig", "cloudwatchLogs");
      if (isUnknown(cloudwatch) || atPath(cloudwatch, "status") === "DISABLED") continue;
      const groupName = atPath(cloudwatch, "groupName");
      if (isUnknown(groupName)) continue;
      const group = groups.find((candidate) => atPath(candidate.props, "name") === groupName);
      if (!group || !atPath(group.props, "kmsKeyId"))
        reportViolation(
          `CodeBuild project ${project.name} logs to ${group ? `log group ${group.name} without kmsKeyId` : `${show(groupName ?? "the default /aws/codebuild group")}, which this stack does not create encrypted`}; create the log group with kmsKeyId and name it in logsConfig.cloudwatchLogs.groupName.`,
          project.urn,
        );
    }
  },
};
