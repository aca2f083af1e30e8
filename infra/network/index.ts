import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { withName } from "../tags";
import { planSubnets, SubnetPlan } from "./plan";

export interface NetworkArgs {
  readonly clusterName: string;
  readonly region: string;
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  readonly privateSubnetPrefix: number;
  readonly publicSubnetPrefix: number;
  readonly natGateways: "single" | "perAz";
  readonly flowLogRetentionDays: number;
  /** Key that encrypts the flow log group. */
  readonly logKeyArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * VPC with one private (nodes and pods) and one public (load balancers, NAT) subnet per AZ, NAT egress, an S3
 * gateway endpoint (image layers from ECR come from S3 without NAT charges) and VPC flow logs.
 */
export class Network extends pulumi.ComponentResource {
  readonly plan: SubnetPlan;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /**
   * What gives the private subnets their way out (NAT gateways, routes, route table associations). The cluster
   * depends on it so that `pulumi destroy` keeps egress until the cluster and its drain are gone: controllers
   * cleaning up (Karpenter, the EBS CSI driver, Pod Identity) still need to reach AWS APIs.
   */
  readonly egress: pulumi.Resource[] = [];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:Network", name, {}, opts);
    const parent = { parent: this };
    this.plan = planSubnets({
      vpcCidr: args.vpcCidr,
      availabilityZones: args.availabilityZones,
      privatePrefix: args.privateSubnetPrefix,
      publicPrefix: args.publicSubnetPrefix,
    });

    const vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: args.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: withName(args.tags, args.clusterName),
      },
      parent,
    );
    this.vpcId = vpc.id;
    const internetGateway = new aws.ec2.InternetGateway(
      name,
      { vpcId: vpc.id, tags: withName(args.tags, args.clusterName) },
      parent,
    );

    const publicRouteTable = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, tags: withName(args.tags, `${args.clusterName}-public`) },
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
            ...withName(args.tags, `${args.clusterName}-public-${planned.availabilityZone}`),
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
        { domain: "vpc", tags: withName(args.tags, `${args.clusterName}-nat-${zoneSuffix}`) },
        parent,
      );
      const natGateway = new aws.ec2.NatGateway(
        `${name}-${zoneSuffix}`,
        {
          allocationId: address.id,
          subnetId: subnet.id,
          tags: withName(args.tags, `${args.clusterName}-${zoneSuffix}`),
        },
        { parent: this, dependsOn: [internetGateway] },
      );
      this.egress.push(natGateway);
      return natGateway;
    });

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    this.privateSubnetIds = this.plan.private.map((planned, index) => {
      const zoneSuffix = planned.availabilityZone.slice(-1);
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${zoneSuffix}`,
        {
          vpcId: vpc.id,
          cidrBlock: planned.cidr,
          availabilityZone: planned.availabilityZone,
          mapPublicIpOnLaunch: false,
          tags: {
            ...withName(args.tags, `${args.clusterName}-private-${planned.availabilityZone}`),
            "kubernetes.io/role/internal-elb": "1",
            // Karpenter and Auto Mode NodeClasses find node subnets by this tag.
            "karpenter.sh/discovery": args.clusterName,
          },
        },
        parent,
      );
      const routeTable = new aws.ec2.RouteTable(
        `${name}-private-${zoneSuffix}`,
        {
          vpcId: vpc.id,
          tags: withName(args.tags, `${args.clusterName}-private-${planned.availabilityZone}`),
        },
        parent,
      );
      privateRouteTables.push(routeTable);
      const route = new aws.ec2.Route(
        `${name}-private-${zoneSuffix}-egress`,
        {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: natGateways[Math.min(index, natGateways.length - 1)].id,
        },
        parent,
      );
      const association = new aws.ec2.RouteTableAssociation(
        `${name}-private-${zoneSuffix}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        parent,
      );
      this.egress.push(route, association);
      return subnet.id;
    });

    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTables.map((table) => table.id),
        tags: withName(args.tags, `${args.clusterName}-s3`),
      },
      parent,
    );

    this.createFlowLogs(name, vpc, args);
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }

  private createFlowLogs(name: string, vpc: aws.ec2.Vpc, args: NetworkArgs): void {
    const parent = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `/aws/vpc/${args.clusterName}/flow-logs`,
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
        tags: withName(args.tags, `${args.clusterName}-flow-logs`),
      },
      parent,
    );
  }
}
