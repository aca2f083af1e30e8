import { strict as assert } from "node:assert";
import { ofType, single, synthesizedStack } from "../support/stacks";

const endpointType = "aws:ec2/vpcEndpoint:VpcEndpoint";
const isCapabilitiesEndpoint = (inputs: Record<string, unknown>) =>
  String(inputs.serviceName).endsWith(".eks-capabilities");

describe("synthesized stacks: the managed Argo CD sample (Pulumi.managed-argocd.yaml)", function () {
  this.timeout(120_000);

  it("keeps the capability's UI/API behind an eks-capabilities endpoint in every private subnet", async () => {
    const result = await synthesizedStack("managed-argocd");
    const [endpoint, ...others] = ofType(result, endpointType).filter((e) =>
      isCapabilitiesEndpoint(e.inputs),
    );
    assert.ok(endpoint, "no eks-capabilities endpoint");
    assert.equal(others.length, 0);
    assert.equal(endpoint.inputs.serviceName, "com.amazonaws.eu-west-1.eks-capabilities");
    const privateSubnets = ofType(result, "aws:ec2/subnet:Subnet").filter(
      (subnet) => (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"] === "1",
    );
    assert.equal((endpoint.inputs.subnetIds as string[]).length, privateSubnets.length);
    const capability = single(result, "aws:eks/capability:Capability");
    assert.ok(
      capability.propertyDependencies.configuration.includes(endpoint.urn),
      "vpceIds come from the endpoint",
    );
    const argoCd = (capability.inputs.configuration as { argoCd: { networkAccess: { vpceIds: string[] } } })
      .argoCd;
    assert.equal(argoCd.networkAccess.vpceIds.length, 1);
    assert.match(argoCd.networkAccess.vpceIds[0], /^vpce-/);
  });

  it("the helm-mode sample stacks have no such endpoint", async () => {
    for (const stack of ["dev", "prod", "staging"]) {
      const result = await synthesizedStack(stack);
      assert.equal(ofType(result, "aws:eks/capability:Capability").length, 0, stack);
      assert.equal(
        ofType(result, endpointType).filter((e) => isCapabilitiesEndpoint(e.inputs)).length,
        0,
        stack,
      );
    }
  });
});
