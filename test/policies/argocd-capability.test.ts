import { strict as assert } from "assert";
import { argocdCapabilityPrivate } from "../../policies/argocd-capability";
import { policies } from "../../policies/pack";
import { UNKNOWN_VALUE, validateResource, withSettings } from "./support";

const capabilityType = "aws:eks/capability:Capability";

function capability(networkAccess?: unknown): Record<string, unknown> {
  return {
    clusterName: "platform",
    capabilityName: "argocd",
    type: "ARGOCD",
    roleArn: "arn:aws:iam::111122223333:role/platform-argocd-capability",
    deletePropagationPolicy: "RETAIN",
    configuration: {
      argoCd: {
        awsIdc: { idcInstanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef", idcRegion: "eu-west-1" },
        namespace: "argocd",
        ...(networkAccess === undefined ? {} : { networkAccess }),
      },
    },
  };
}

describe("policies: argocd-capability-private", () => {
  it("is a mandatory rule of the pack", () => {
    assert.ok(policies.some((policy) => policy.name === argocdCapabilityPrivate.name));
    assert.equal(argocdCapabilityPrivate.enforcementLevel, "mandatory");
  });

  it("passes a capability whose networkAccess names a VPC endpoint (known, or unknown during preview)", () => {
    for (const vpceIds of [["vpce-0123456789abcdef0"], [UNKNOWN_VALUE], UNKNOWN_VALUE]) {
      assert.deepEqual(
        withSettings({ environment: "prod" }, () =>
          validateResource(argocdCapabilityPrivate, capabilityType, capability({ vpceIds })),
        ),
        [],
        JSON.stringify(vpceIds),
      );
    }
  });

  it("reports a capability without vpceIds (no networkAccess, or an empty list) on every environment", () => {
    for (const environment of ["prod", "staging", "dev"] as const) {
      for (const networkAccess of [undefined, {}, { vpceIds: [] }, { vpceIds: [""] }]) {
        const messages = withSettings({ environment }, () =>
          validateResource(argocdCapabilityPrivate, capabilityType, capability(networkAccess)),
        );
        assert.equal(messages.length, 1, `${environment} ${JSON.stringify(networkAccess)}`);
        assert.match(messages[0], /no configuration\.argoCd\.networkAccess\.vpceIds/);
        assert.match(messages[0], new RegExp(`this stack is ${environment}`));
        assert.match(messages[0], /com\.amazonaws\.<region>\.eks-capabilities/);
      }
    }
  });

  it("ignores other capability types", () => {
    const ack = { ...capability(), type: "ACK", configuration: undefined };
    assert.deepEqual(
      withSettings({ environment: "prod" }, () =>
        validateResource(argocdCapabilityPrivate, capabilityType, ack),
      ),
      [],
    );
  });
});
