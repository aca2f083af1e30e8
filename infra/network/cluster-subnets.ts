import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { withName } from "../tags";
import { planSubnets, SubnetPlan } from "./plan";

export interface ClusterSubnetsArgs {
  readonly clusterName: string;
  /** The foundation's VPC. */
  readonly vpcId: pulumi.Input<string>;
  /** The cluster's own block of that VPC (one of the foundation's clusterCidrs). */
  readonly cidrBlock: string;
  readonly availabilityZones: readonly string[];
  readonly privateSubnetPrefix: number;
  /** The foundation's NAT gateway for each of `availabilityZones`, in the same order. */
  readonly natGatewayIds: readonly pulumi.Input<string>[];
  /** The foundation's S3 gateway endpoint. */
  readonly s3EndpointId: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A cluster's node and pod subnets inside its own block of the foundation's VPC: one private /19–/20 per AZ, each
 * with a route table to the foundation's NAT gateway of that AZ and to its S3 endpoint. Pod IPs come from these
 * subnets only, so clusters sharing a foundation never compete for addresses. No VPC, gateway or flow log here:
 * those belong to the foundation.
 */
export class ClusterSubnets extends pulumi.ComponentResource {
  readonly plan: SubnetPlan;
  readonly subnetIds: pulumi.Output<string>[];
  /**
   * What gives the subnets their way out (routes, route table and endpoint associations). The cluster depends on it
   * so that `pulumi destroy` keeps egress until the cluster and its drain are gone: controllers cleaning up
   * (Karpenter, the EBS CSI driver, Pod Identity) still need to reach AWS APIs.
   */
  readonly egress: pulumi.Resource[] = [];

  constructor(name: string, args: ClusterSubnetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:ClusterSubnets", name, {}, opts);
    const parent = { parent: this };
    this.plan = planSubnets({
      vpcCidr: args.cidrBlock,
      availabilityZones: args.availabilityZones,
      privatePrefix: args.privateSubnetPrefix,
    });
    this.subnetIds = this.plan.private.map((planned, index) => {
      const zoneSuffix = planned.availabilityZone.slice(-1);
      const zoneName = `${args.clusterName}-private-${planned.availabilityZone}`;
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${zoneSuffix}`,
        {
          vpcId: args.vpcId,
          cidrBlock: planned.cidr,
          availabilityZone: planned.availabilityZone,
          mapPublicIpOnLaunch: false,
          tags: {
            ...withName(args.tags, zoneName),
            "kubernetes.io/role/internal-elb": "1",
            // The VPC is shared: a subnet tagged for one cluster is refused by the load balancer subnet discovery of
            // every other (AWS Load Balancer Controller's cluster tag check), so no cluster's internal load balancer
            // lands in another cluster's block and holds up its subnets' deletion.
            [`kubernetes.io/cluster/${args.clusterName}`]: "owned",
            // Karpenter and Auto Mode NodeClasses find node subnets by this tag.
            "karpenter.sh/discovery": args.clusterName,
          },
        },
        parent,
      );
      const routeTable = new aws.ec2.RouteTable(
        `${name}-private-${zoneSuffix}`,
        { vpcId: args.vpcId, tags: withName(args.tags, zoneName) },
        parent,
      );
      const route = new aws.ec2.Route(
        `${name}-private-${zoneSuffix}-egress`,
        {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: args.natGatewayIds[index],
        },
        parent,
      );
      const association = new aws.ec2.RouteTableAssociation(
        `${name}-private-${zoneSuffix}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        parent,
      );
      const s3 = new aws.ec2.VpcEndpointRouteTableAssociation(
        `${name}-private-${zoneSuffix}-s3`,
        { routeTableId: routeTable.id, vpcEndpointId: args.s3EndpointId },
        parent,
      );
      this.egress.push(route, association, s3);
      return subnet.id;
    });
    this.registerOutputs({ subnetIds: this.subnetIds });
  }
}
