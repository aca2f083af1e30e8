import { strict as assert } from "node:assert";
import { Address4 } from "ip-address";
import { parseCidr } from "../../infra/config/cidr";
import { planSubnets } from "../../infra/network/plan";

function range(cidr: string): [bigint, bigint] {
  const address = new Address4(cidr);
  return [address.startAddress().bigInt(), address.endAddress().bigInt()];
}

describe("subnet planner", () => {
  it("lays out one /19 private and one /24 public subnet per AZ in a /16", () => {
    const plan = planSubnets({
      vpcCidr: "10.40.0.0/16",
      availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
      privatePrefix: 19,
      publicPrefix: 24,
    });
    assert.deepEqual(
      plan.private.map((subnet) => [subnet.availabilityZone, subnet.cidr]),
      [
        ["eu-west-1a", "10.40.0.0/19"],
        ["eu-west-1b", "10.40.32.0/19"],
        ["eu-west-1c", "10.40.64.0/19"],
      ],
    );
    assert.deepEqual(
      plan.public.map((subnet) => subnet.cidr),
      ["10.40.96.0/24", "10.40.97.0/24", "10.40.98.0/24"],
    );
  });

  it("never overlaps, stays inside the VPC and is deterministic over many inputs", () => {
    let checked = 0;
    for (const [base, vpcPrefix] of [
      ["10.0.0.0", 12],
      ["172.16.0.0", 14],
      ["10.128.0.0", 16],
      ["192.168.0.0", 17],
      ["10.1.64.0", 18],
    ] as const) {
      for (const zoneCount of [3, 4, 5, 6]) {
        for (let privatePrefix = vpcPrefix; privatePrefix <= 20; privatePrefix++) {
          for (const publicPrefix of [privatePrefix, 22, 24, 26, 27].filter(
            (prefix) => prefix >= privatePrefix,
          )) {
            const request = {
              vpcCidr: `${base}/${vpcPrefix}`,
              availabilityZones: Array.from({ length: zoneCount }, (_, index) => `zone-${index}`),
              privatePrefix,
              publicPrefix,
            };
            let plan;
            try {
              plan = planSubnets(request);
            } catch (error) {
              assert.match((error as Error).message, /holds \d+ addresses but/);
              continue;
            }
            const vpc = range(request.vpcCidr);
            const blocks = [...plan.private, ...plan.public].map((subnet) => range(subnet.cidr));
            for (const [start, end] of blocks) {
              assert.ok(start >= vpc[0] && end <= vpc[1], `${request.vpcCidr}: block outside the VPC`);
            }
            const sorted = [...blocks].sort((a, b) => (a[0] < b[0] ? -1 : 1));
            for (let index = 1; index < sorted.length; index++) {
              assert.ok(
                sorted[index][0] > sorted[index - 1][1],
                `${JSON.stringify(request)}: overlapping blocks`,
              );
            }
            assert.equal(plan.private.length, zoneCount);
            assert.deepEqual(planSubnets(request), plan);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 100, `only ${checked} plans checked`);
  });

  it("refuses a VPC that cannot hold the subnets, naming both sizes", () => {
    assert.throws(
      () =>
        planSubnets({
          vpcCidr: "10.0.0.0/18",
          availabilityZones: ["a", "b", "c"],
          privatePrefix: 19,
          publicPrefix: 24,
        }),
      /10\.0\.0\.0\/18 holds 16384 addresses but 3 private \/19 and 3 public \/24 subnets need 25344/,
    );
  });

  it("refuses CIDRs with host bits or bad syntax", () => {
    assert.throws(() => parseCidr("10.40.1.0/16"), /has host bits set; write it as 10\.40\.0\.0\/16/);
    assert.throws(() => parseCidr("10.40.0.0"), /is not an IPv4 CIDR block/);
    assert.throws(() => parseCidr("300.1.1.0/24"), /is not an IPv4 CIDR block/);
  });
});
