import { addressesNeeded, blockSize, formatCidr, parseCidr, type SubnetSizes } from "../config/cidr";

/** One subnet the planner placed: which AZ it serves and its CIDR block. */
export interface PlannedSubnet {
  readonly availabilityZone: string;
  readonly cidr: string;
}

export interface SubnetPlan {
  /** Node and pod subnets (one per AZ): large, because every pod takes a VPC IP. */
  readonly private: readonly PlannedSubnet[];
  /** Load balancer and NAT subnets (one per AZ): small, they hold few ENIs. */
  readonly public: readonly PlannedSubnet[];
}

export interface SubnetPlanRequest extends SubnetSizes {
  readonly vpcCidr: string;
}

/**
 * Lays out one private and one public subnet per AZ inside the VPC CIDR.
 * Private blocks come first from the VPC's base, public blocks right after them; both sizes are powers of two
 * and the larger ones come first, so every block is aligned and none overlap. Same input, same plan, so a
 * preview never shows subnets moving.
 */
export function planSubnets(request: SubnetPlanRequest): SubnetPlan {
  const vpc = parseCidr(request.vpcCidr);
  const publicPrefix = request.publicPrefix ?? request.privatePrefix;
  if (request.privatePrefix > publicPrefix) {
    throw new Error(
      `private subnets (/${request.privatePrefix}) must be at least as large as public ones (/${request.publicPrefix})`,
    );
  }
  if (request.privatePrefix < vpc.prefix || publicPrefix < vpc.prefix) {
    throw new Error(`subnets cannot be larger than the VPC block ${request.vpcCidr}`);
  }
  const needed = addressesNeeded(request);
  const available = blockSize(vpc.prefix);
  if (needed > available) {
    throw new Error(
      `${request.vpcCidr} holds ${available} addresses but ${request.availabilityZones.length} private /${request.privatePrefix} ` +
        (request.publicPrefix === undefined
          ? `subnets need ${needed}`
          : `and ${request.availabilityZones.length} public /${request.publicPrefix} subnets need ${needed}`),
    );
  }
  const privateSize = blockSize(request.privatePrefix);
  const publicSize = blockSize(publicPrefix);
  const publicBase = vpc.base + privateSize * BigInt(request.availabilityZones.length);
  return {
    private: request.availabilityZones.map((zone, index) => ({
      availabilityZone: zone,
      cidr: formatCidr(vpc.base + privateSize * BigInt(index), request.privatePrefix),
    })),
    public:
      request.publicPrefix === undefined
        ? []
        : request.availabilityZones.map((zone, index) => ({
            availabilityZone: zone,
            cidr: formatCidr(publicBase + publicSize * BigInt(index), publicPrefix),
          })),
  };
}
