import { BatchGetProjectsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import {
  DescribeVpcsCommand,
  EC2Client,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSubnets,
} from "@aws-sdk/client-ec2";
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  NoSuchEntityException,
} from "@aws-sdk/client-iam";
import type { FoundationConfig } from "../../infra/foundation/config";
import { ciNames, FoundationOutputs } from "../../infra/foundation/contract";
import {
  FoundationObservation,
  ObservedFoundationEnvironment,
  ObservedOidcProvider,
  ObservedRouteTable,
  ObservedRunnerProject,
  ObservedSecurityGroupRule,
  ObservedVpc,
  oidcProviderArn,
  roleNameOf,
  runnerProjectsCheck,
} from "./foundation";
import {
  ObservedFlowLog,
  ObservedLogGroup,
  ObservedRole,
  ObservedSubnet,
  SdkInventory,
  SdkInventoryOptions,
  supported,
  UnsupportedCall,
} from "./inventory";

/** Every AWS read the live check of a foundation makes. */
export interface FoundationInventory {
  describeVpc(vpcId: string): Promise<ObservedVpc | undefined>;
  vpcSubnets(vpcId: string): Promise<ObservedSubnet[]>;
  vpcRouteTables(vpcId: string): Promise<ObservedRouteTable[]>;
  describeFlowLogs(vpcId: string): Promise<ObservedFlowLog[]>;
  securityGroupRules(groupId: string): Promise<ObservedSecurityGroupRule[]>;
  runnerProjects(names: readonly string[]): Promise<ObservedRunnerProject[]>;
  describeLogGroup(name: string): Promise<ObservedLogGroup | undefined>;
  describeRole(name: string): Promise<ObservedRole | undefined>;
  describeOidcProvider(arn: string): Promise<ObservedOidcProvider | undefined>;
  /** A managed policy's default version (JSON), undefined when there is no such policy. */
  describePolicy(arn: string): Promise<{ arn: string; document: string } | undefined>;
}

const tagMap = (tags: readonly { Key?: string; Value?: string }[] | undefined) =>
  Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));

/** FoundationInventory over the AWS SDK (EC2, CodeBuild, IAM, CloudWatch Logs), like SdkInventory for clusters. */
export class FoundationSdkInventory implements FoundationInventory {
  private readonly ec2: EC2Client;
  private readonly codebuild: CodeBuildClient;
  private readonly iam: IAMClient;
  private readonly cluster: SdkInventory;

  constructor(options: SdkInventoryOptions) {
    const config = { region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
    this.ec2 = new EC2Client(config);
    this.codebuild = new CodeBuildClient(config);
    this.iam = new IAMClient(config);
    this.cluster = new SdkInventory(options);
  }

  async describeVpc(vpcId: string): Promise<ObservedVpc | undefined> {
    // A filter, not VpcIds: an id that does not exist is an empty answer, not an error.
    const page = await this.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    const vpc = page.Vpcs?.[0];
    if (!vpc) return undefined;
    return {
      id: vpc.VpcId ?? vpcId,
      cidrBlock: vpc.CidrBlock ?? "",
      blocks: (vpc.CidrBlockAssociationSet ?? []).map((block) => ({
        cidr: block.CidrBlock ?? "",
        state: String(block.CidrBlockState?.State ?? ""),
      })),
      tags: tagMap(vpc.Tags),
    };
  }

  async vpcSubnets(vpcId: string): Promise<ObservedSubnet[]> {
    const subnets: ObservedSubnet[] = [];
    const Filters = [{ Name: "vpc-id", Values: [vpcId] }];
    for await (const page of paginateDescribeSubnets({ client: this.ec2 }, { Filters }))
      for (const subnet of page.Subnets ?? [])
        subnets.push({
          id: subnet.SubnetId ?? "",
          vpcId: subnet.VpcId ?? "",
          cidrBlock: subnet.CidrBlock ?? "",
          availabilityZone: subnet.AvailabilityZone ?? "",
          mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch === true,
          tags: tagMap(subnet.Tags),
        });
    return subnets;
  }

  async vpcRouteTables(vpcId: string): Promise<ObservedRouteTable[]> {
    const tables: ObservedRouteTable[] = [];
    const Filters = [{ Name: "vpc-id", Values: [vpcId] }];
    for await (const page of paginateDescribeRouteTables({ client: this.ec2 }, { Filters }))
      for (const table of page.RouteTables ?? [])
        tables.push({
          id: table.RouteTableId ?? "",
          main: (table.Associations ?? []).some((association) => association.Main === true),
          subnetIds: (table.Associations ?? [])
            .map((association) => association.SubnetId)
            .filter((id): id is string => id !== undefined),
          routes: (table.Routes ?? []).map((route) => ({
            destination: route.DestinationCidrBlock ?? route.DestinationPrefixListId ?? "",
            target:
              route.NatGatewayId ??
              route.GatewayId ??
              route.TransitGatewayId ??
              route.VpcPeeringConnectionId ??
              route.NetworkInterfaceId ??
              route.InstanceId ??
              "",
          })),
        });
    return tables;
  }

  describeFlowLogs(vpcId: string): Promise<ObservedFlowLog[]> {
    return this.cluster.describeFlowLogs(vpcId);
  }

  async securityGroupRules(groupId: string): Promise<ObservedSecurityGroupRule[]> {
    const rules: ObservedSecurityGroupRule[] = [];
    const Filters = [{ Name: "group-id", Values: [groupId] }];
    await supported("ec2:DescribeSecurityGroupRules", async () => {
      for await (const page of paginateDescribeSecurityGroupRules({ client: this.ec2 }, { Filters }))
        for (const rule of page.SecurityGroupRules ?? [])
          rules.push({
            egress: rule.IsEgress === true,
            protocol: rule.IpProtocol ?? "",
            fromPort: rule.FromPort ?? -1,
            toPort: rule.ToPort ?? -1,
            peer:
              rule.CidrIpv4 ??
              rule.CidrIpv6 ??
              rule.PrefixListId ??
              rule.ReferencedGroupInfo?.GroupId ??
              "(unknown)",
          });
    });
    return rules;
  }

  async runnerProjects(names: readonly string[]): Promise<ObservedRunnerProject[]> {
    if (names.length === 0) return [];
    const page = await supported("codebuild:BatchGetProjects", () =>
      this.codebuild.send(new BatchGetProjectsCommand({ names: [...names] })),
    );
    return (page.projects ?? []).map((project) => ({
      name: project.name ?? "",
      serviceRole: project.serviceRole ?? "",
      sourceType: String(project.source?.type ?? ""),
      sourceLocation: project.source?.location ?? "",
      vpcId: project.vpcConfig?.vpcId,
      subnetIds: project.vpcConfig?.subnets ?? [],
      securityGroupIds: project.vpcConfig?.securityGroupIds ?? [],
      cloudWatchLogs: project.logsConfig?.cloudWatchLogs && {
        status: String(project.logsConfig.cloudWatchLogs.status ?? ""),
        groupName: project.logsConfig.cloudWatchLogs.groupName,
      },
      encryptionKey: project.encryptionKey,
      webhook: project.webhook && {
        filterGroups: (project.webhook.filterGroups ?? []).map((group) =>
          group.map((filter) => ({
            type: String(filter.type ?? ""),
            pattern: filter.pattern ?? "",
            excludeMatchedPattern: filter.excludeMatchedPattern,
          })),
        ),
      },
    }));
  }

  describeLogGroup(name: string): Promise<ObservedLogGroup | undefined> {
    return this.cluster.describeLogGroup(name);
  }

  async describeRole(name: string): Promise<ObservedRole | undefined> {
    return this.cluster.describeRole(name);
  }

  async describePolicy(arn: string): Promise<{ arn: string; document: string } | undefined> {
    try {
      const policy = (await this.iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy;
      const version = await this.iam.send(
        new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy?.DefaultVersionId }),
      );
      return { arn, document: decodeURIComponent(version.PolicyVersion?.Document ?? "{}") };
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async describeOidcProvider(arn: string): Promise<ObservedOidcProvider | undefined> {
    return supported("iam:GetOpenIDConnectProvider", async () => {
      try {
        const provider = await this.iam.send(
          new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
        );
        return { arn, url: provider.Url ?? "", clientIds: provider.ClientIDList ?? [] };
      } catch (error) {
        if (error instanceof NoSuchEntityException) return undefined;
        throw error;
      }
    });
  }
}

/**
 * Reads what a foundation's outputs name. A read the endpoint does not implement becomes a "not checked" line (an
 * emulator such as moto), never a pass: its checks are left out, and the report says so.
 */
export async function observeFoundation(
  config: FoundationConfig,
  outputs: FoundationOutputs,
  inventory: FoundationInventory,
): Promise<FoundationObservation> {
  const notChecked: { check: string; reason: string }[] = [];
  const orSkip = async <T>(check: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof UnsupportedCall)) throw error;
      notChecked.push({ check, reason: error.message });
      return undefined;
    }
  };
  const vpc = await inventory.describeVpc(outputs.vpcId);
  const [subnets, routeTables, flowLogs, oidcProvider] = await Promise.all([
    vpc ? inventory.vpcSubnets(outputs.vpcId) : Promise.resolve([]),
    vpc ? inventory.vpcRouteTables(outputs.vpcId) : Promise.resolve([]),
    vpc
      ? orSkip("VPC flow logs", () => inventory.describeFlowLogs(outputs.vpcId))
      : Promise.resolve(undefined),
    orSkip("GitHub OIDC provider", () => inventory.describeOidcProvider(oidcProviderArn(config))),
  ]);
  const served = config.environments.map((entry) => entry.name);
  const wanted = served.map((name) => ({ name, outputs: outputs.environments[name] }));
  const projects =
    (await orSkip(runnerProjectsCheck, () =>
      inventory.runnerProjects(
        wanted.flatMap((entry) => (entry.outputs ? [entry.outputs.runnerProject] : [])),
      ),
    )) ?? [];
  const projectsRead = !notChecked.some((skipped) => skipped.check === runnerProjectsCheck);
  const environments: ObservedFoundationEnvironment[] = await Promise.all(
    wanted.map(async ({ name, outputs: environment }) => {
      if (!environment) return { name };
      const names = ciNames(config.namePrefix, name);
      const [securityGroupRules, logGroup, roleBoundary, runnerRole, deployRole, previewRole] =
        await Promise.all([
          orSkip(`runner security group ${environment.runnerSecurityGroupId}`, () =>
            inventory.securityGroupRules(environment.runnerSecurityGroupId),
          ),
          inventory.describeLogGroup(`/aws/codebuild/${environment.runnerProject}`),
          inventory.describePolicy(environment.roleBoundaryArn),
          inventory.describeRole(names.runnerRole),
          inventory.describeRole(roleNameOf(environment.deployRoleArn)),
          inventory.describeRole(roleNameOf(environment.previewRoleArn)),
        ]);
      return {
        name,
        outputs: environment,
        project: projectsRead
          ? projects.find((project) => project.name === environment.runnerProject)
          : undefined,
        securityGroupRules,
        logGroup,
        roleBoundary,
        runnerRole,
        deployRole,
        previewRole,
      };
    }),
  );
  const own = ciNames(config.namePrefix, "foundation");
  const [deploy, preview] = await Promise.all([
    inventory.describeRole(own.deployRole),
    inventory.describeRole(own.previewRole),
  ]);
  return {
    vpc,
    subnets,
    routeTables,
    flowLogs,
    oidcProvider,
    environments,
    foundationRoles: { deploy, preview },
    notChecked,
  };
}
