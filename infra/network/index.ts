import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { withName } from "../tags";
import { planSubnets, SubnetPlan } from "./plan";

export { ClusterSubnets, ClusterSubnetsArgs } from "./cluster-subnets";

export interface NetworkArgs {
  /** Prefix of the Name tags (the foundation's namePrefix). */
  readonly namePrefix: string;
  readonly region: string;
  /** Primary block: public and runner subnets. */
  readonly vpcCidr: string;
  /** Secondary blocks, one per cluster stack; each cluster lays out its own private subnets in its block. */
  readonly clusterCidrs: readonly string[];
  readonly availabilityZones: readonly string[];
  readonly runnerSubnetPrefix: number;
  readonly publicSubnetPrefix: number;
  readonly natGateways: "single" | "perAz";
  readonly flowLogRetentionDays: number;
  /** Key that encrypts the flow log group. */
  readonly logKeyArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The foundation's VPC, shared by the cluster stacks of one account and region: one public subnet (load balancers,
 * NAT) and one runner subnet (the CodeBuild runners' network interfaces) per AZ in the primary block, one secondary
 * block per cluster (the cluster stack plans its node and pod subnets there), NAT egress, an S3 gateway endpoint
 * (image layers from ECR come from S3 without NAT charges) and VPC flow logs.
 */
export class Network extends pulumi.ComponentResource {
  readonly plan: SubnetPlan;
  readonly vpcId: pulumi.Output<string>;
  /** Runner subnets: private, egress through NAT, no public IPs. */
  readonly runnerSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /** The NAT gateway serving each AZ, in `availabilityZones` order (one gateway repeated when `single`). */
  readonly natGatewayIds: pulumi.Output<string>[];
  readonly s3EndpointId: pulumi.Output<string>;
  /** The secondary block associations, which cluster subnets need first. */
  readonly clusterCidrAssociations: aws.ec2.VpcIpv4CidrBlockAssociation[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:Network", name, {}, opts);
    const parent = { parent: this };
    this.plan = planSubnets({
      vpcCidr: args.vpcCidr,
      availabilityZones: args.availabilityZones,
      privatePrefix: args.runnerSubnetPrefix,
      publicPrefix: args.publicSubnetPrefix,
    });

    const vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: args.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: withName(args.tags, args.namePrefix),
      },
      parent,
    );
    this.vpcId = vpc.id;
    this.clusterCidrAssociations = args.clusterCidrs.map(
      (cidrBlock) =>
        new aws.ec2.VpcIpv4CidrBlockAssociation(
          `${name}-cluster-${cidrBlock.replace(/[./]/g, "-")}`,
          { vpcId: vpc.id, cidrBlock },
          parent,
        ),
    );
    const internetGateway = new aws.ec2.InternetGateway(
      name,
      { vpcId: vpc.id, tags: withName(args.tags, args.namePrefix) },
      parent,
    );

    const publicRouteTable = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, tags: withName(args.tags, `${args.namePrefix}-public`) },
      parent,
    );
    new aws.ec2.Route(
      `${name}-public-internet`,
      { routeTableId: publicRouteTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id },
      parent,
    );

    // Public subnets still never hand out public IPs: load balancers and NAT gateways bring their own.
    const publicSubnets = this.plan.public.map((planned) => {
      const zoneSuffix = planned.availabilityZone.slice(-1);
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${zoneSuffix}`,
        {
          vpcId: vpc.id,
          cidrBlock: planned.cidr,
          availabilityZone: planned.availabilityZone,
          mapPublicIpOnLaunch: false,
          tags: {
            ...withName(args.tags, `${args.namePrefix}-public-${planned.availabilityZone}`),
            "kubernetes.io/role/elb": "1",
          },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${zoneSuffix}`,
        { subnetId: subnet.id, routeTableId: publicRouteTable.id },
        parent,
      );
      return subnet;
    });
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);

    const natSubnets = args.natGateways === "perAz" ? publicSubnets : publicSubnets.slice(0, 1);
    const natGateways = natSubnets.map((subnet, index) => {
      const zoneSuffix = this.plan.public[index].availabilityZone.slice(-1);
      const address = new aws.ec2.Eip(
        `${name}-nat-${zoneSuffix}`,
        { domain: "vpc", tags: withName(args.tags, `${args.namePrefix}-nat-${zoneSuffix}`) },
        parent,
      );
      const natGateway = new aws.ec2.NatGateway(
        `${name}-${zoneSuffix}`,
        {
          allocationId: address.id,
          subnetId: subnet.id,
          tags: withName(args.tags, `${args.namePrefix}-${zoneSuffix}`),
        },
        { parent: this, dependsOn: [internetGateway] },
      );
      return natGateway;
    });

    this.natGatewayIds = this.plan.private.map(
      (_, index) => natGateways[Math.min(index, natGateways.length - 1)].id,
    );

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    this.runnerSubnetIds = this.plan.private.map((planned, index) => {
      const zoneSuffix = planned.availabilityZone.slice(-1);
      const subnet = new aws.ec2.Subnet(
        `${name}-runner-${zoneSuffix}`,
        {
          vpcId: vpc.id,
          cidrBlock: planned.cidr,
          availabilityZone: planned.availabilityZone,
          mapPublicIpOnLaunch: false,
          // Not a node or pod subnet: no internal-elb or discovery tag, so no cluster schedules into it.
          tags: {
            ...withName(args.tags, `${args.namePrefix}-runner-${planned.availabilityZone}`),
            tier: "runner",
          },
        },
        parent,
      );
      const routeTable = new aws.ec2.RouteTable(
        `${name}-runner-${zoneSuffix}`,
        {
          vpcId: vpc.id,
          tags: withName(args.tags, `${args.namePrefix}-runner-${planned.availabilityZone}`),
        },
        parent,
      );
      privateRouteTables.push(routeTable);
      new aws.ec2.Route(
        `${name}-runner-${zoneSuffix}-egress`,
        {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: this.natGatewayIds[index],
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-runner-${zoneSuffix}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        parent,
      );
      return subnet.id;
    });

    // Cluster stacks add their route tables with aws.ec2.VpcEndpointRouteTableAssociation.
    const s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTables.map((table) => table.id),
        tags: withName(args.tags, `${args.namePrefix}-s3`),
      },
      parent,
    );
    this.s3EndpointId = s3Endpoint.id;

    this.createFlowLogs(name, vpc, args);
    this.registerOutputs({ vpcId: this.vpcId, runnerSubnetIds: this.runnerSubnetIds });
  }

  private createFlowLogs(name: string, vpc: aws.ec2.Vpc, args: NetworkArgs): void {
    const parent = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `/aws/vpc/${args.namePrefix}/flow-logs`,
        retentionInDays: args.flowLogRetentionDays,
        kmsKeyId: args.logKeyArn,
        tags: args.tags,
      },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com", false),
        tags: args.tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        policy: logGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ],
          }),
        ),
      },
      parent,
    );
    new aws.ec2.FlowLog(
      name,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        tags: withName(args.tags, `${args.namePrefix}-flow-logs`),
      },
      parent,
    );
  }
}
