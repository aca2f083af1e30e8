import { Address4 } from "ip-address";

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

export interface SubnetPlanRequest {
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  readonly privatePrefix: number;
  /** None: private subnets only (a cluster's block inside a foundation VPC, whose public subnets it shares). */
  readonly publicPrefix?: number;
}

/** Parses an IPv4 CIDR that is written in its canonical form (network address, no host bits). */
export function parseCidr(cidr: string): { base: bigint; prefix: number } {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr) || !Address4.isValid(cidr)) {
    throw new Error(`"${cidr}" is not an IPv4 CIDR block such as 10.0.0.0/16`);
  }
  const address = new Address4(cidr);
  const base = address.startAddress().bigInt();
  if (base !== new Address4(cidr.split("/")[0]).bigInt()) {
    throw new Error(
      `"${cidr}" has host bits set; write it as ${address.startAddress().address}/${address.subnetMask}`,
    );
  }
  return { base, prefix: address.subnetMask };
}

/** True when two CIDR blocks share an address (one contains the other, or they are equal). */
export function cidrsOverlap(a: string, b: string): boolean {
  const [first, second] = [parseCidr(a), parseCidr(b)];
  const firstEnd = first.base + blockSize(first.prefix);
  const secondEnd = second.base + blockSize(second.prefix);
  return first.base < secondEnd && second.base < firstEnd;
}

/** True when `inner` lies entirely within `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [container, block] = [parseCidr(outer), parseCidr(inner)];
  return (
    block.prefix >= container.prefix &&
    block.base >= container.base &&
    block.base + blockSize(block.prefix) <= container.base + blockSize(container.prefix)
  );
}

function blockSize(prefix: number): bigint {
  return 1n << BigInt(32 - prefix);
}

function formatCidr(base: bigint, prefix: number): string {
  return `${Address4.fromBigInt(base).address}/${prefix}`;
}

/** How many addresses the plan needs, to compare with what the VPC CIDR holds. */
export function addressesNeeded(request: Omit<SubnetPlanRequest, "vpcCidr">): bigint {
  const zones = BigInt(request.availabilityZones.length);
  const publicSize = request.publicPrefix === undefined ? 0n : blockSize(request.publicPrefix);
  return zones * (blockSize(request.privatePrefix) + publicSize);
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
