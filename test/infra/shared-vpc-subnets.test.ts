import { strict as assert } from "node:assert";
import { ofType, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";

interface SubnetDiscovery {
  readonly roleTags: { readonly internal: string };
  readonly clusterTagPrefix: string;
  readonly clusterTagValueChecked: boolean;
  readonly featureGate: { readonly default: boolean };
}

const discovery = upstreamFact<SubnetDiscovery>(
  "aws-load-balancer-controller-v3.5.0.subnet-discovery.json",
).facts;

/** The controller's rule (vendored above): a subnet tagged only for other clusters is not the cluster's to use. */
function eligibleFor(tags: Readonly<Record<string, string>>, clusterName: string): boolean {
  if (!discovery.featureGate.default) return true;
  const keys = Object.keys(tags);
  if (keys.includes(`${discovery.clusterTagPrefix}/${clusterName}`)) return true;
  return !keys.some((key) => key.startsWith(discovery.clusterTagPrefix));
}

/** The internal load balancer subnets (role tag) a cluster stack declares, with its cluster name. */
async function internalSubnets(stack: string): Promise<{ cluster: string; tags: Record<string, string>[] }> {
  const result = await synthesizedStack(stack);
  const [cluster] = ofType(result, "aws:eks/cluster:Cluster");
  const tags = ofType(result, "aws:ec2/subnet:Subnet")
    .map((subnet) => subnet.inputs.tags as Record<string, string>)
    .filter((subnetTags) => subnetTags[discovery.roleTags.internal] === "1");
  return { cluster: String(cluster.inputs.name), tags };
}

/**
 * Cluster stacks share their foundation's VPC, and every cluster's private subnets carry the internal-elb role tag.
 * Without a cluster tag the AWS Load Balancer Controller (and Auto Mode's load balancing, which uses the same subnet
 * tags) may put one cluster's internal load balancer into another cluster's subnets: its addresses then come from
 * that cluster's block, and that cluster's subnets cannot be deleted while the load balancer lives.
 */
describe("clusters sharing a foundation VPC: load balancer subnets", function () {
  this.timeout(180_000);

  it("each cluster's private subnets are eligible for its own load balancers only (LBC v3.5.0 discovery)", async () => {
    const stacks = await Promise.all(["dev", "prod", "staging"].map(internalSubnets));
    for (const own of stacks) {
      assert.ok(own.tags.length >= 3, `${own.cluster}: one private subnet per AZ`);
      for (const other of stacks) {
        const eligible = own.tags.filter((tags) => eligibleFor(tags, other.cluster)).length;
        if (other.cluster === own.cluster)
          assert.equal(eligible, own.tags.length, `${own.cluster}'s subnets for its own load balancers`);
        else
          assert.equal(
            eligible,
            0,
            `${own.cluster}'s subnets must not take ${other.cluster}'s load balancers`,
          );
      }
    }
  });
});
