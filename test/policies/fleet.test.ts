import { strict as assert } from "assert";
import { hubAccessPolicy } from "../../infra/fleet";
import { eksFleetHubAccess, hubAccessComponent, hubAccessPolicies } from "../../policies/fleet";
import { runPolicyPack } from "../../policies/harness";
import { synthesizedStack } from "../support/stacks";
import { StackResourceSpec, validateStack } from "./support";

const entryType = "aws:eks/accessEntry:AccessEntry";
const associationType = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const policyArn = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;

function spokeGrant(
  entry: Record<string, unknown> = {},
  ...associations: Record<string, unknown>[]
): StackResourceSpec[] {
  const given = associations.length > 0 ? associations : [{}];
  return [
    {
      type: entryType,
      name: "hub-entry",
      parentType: hubAccessComponent,
      props: {
        clusterName: "spoke",
        principalArn: "arn:aws:iam::111122223333:role/spoke-argocd-hub",
        type: "STANDARD",
        ...entry,
      },
    },
    ...given.map((association, index) => ({
      type: associationType,
      name: `hub-policy-${index}`,
      parentType: hubAccessComponent,
      props: {
        clusterName: "spoke",
        principalArn: "arn:aws:iam::111122223333:role/spoke-argocd-hub",
        policyArn: policyArn("AmazonEKSClusterAdminPolicy"),
        accessScope: { type: "cluster" },
        ...association,
      },
    })),
  ];
}

const messages = (specs: StackResourceSpec[]) =>
  validateStack(eksFleetHubAccess, specs).map((v) => v.message);

describe("policies: eks-fleet-hub-access", () => {
  it("passes the grant a spoke makes: one STANDARD entry, one cluster-scoped policy", () => {
    assert.deepEqual(messages(spokeGrant()), []);
  });

  it("agrees with the program on the policy it grants", () => {
    assert.ok(hubAccessPolicies.includes(hubAccessPolicy));
  });

  it("rejects Kubernetes groups on the hub's entry (system:masters, or any group bypassing the access policy)", () => {
    const found = messages(spokeGrant({ kubernetesGroups: ["system:masters"] }));
    assert.equal(found.length, 1);
    assert.match(found[0], /maps Kubernetes groups \["system:masters"\]/);
  });

  it("rejects a second policy, an unknown policy, and cluster admin narrowed to namespaces", () => {
    assert.match(
      messages(spokeGrant({}, {}, { policyArn: policyArn("AmazonEKSViewPolicy") })).join("\n"),
      /2 access policy associations/,
    );
    assert.match(
      messages(spokeGrant({}, { policyArn: policyArn("AmazonEKSAutoNodePolicy") })).join("\n"),
      /granted AmazonEKSAutoNodePolicy/,
    );
    assert.match(
      messages(spokeGrant({}, { accessScope: { type: "namespace", namespaces: ["a"] } })).join("\n"),
      /at namespace scope/,
    );
    assert.deepEqual(
      messages(
        spokeGrant({}, { policyArn: policyArn("AmazonEKSAdminPolicy"), accessScope: { type: "namespace" } }),
      ),
      [],
    );
  });

  it("rejects a non-STANDARD entry and a second entry for the hub", () => {
    assert.match(messages(spokeGrant({ type: "EC2_LINUX" })).join("\n"), /type EC2_LINUX; use STANDARD/);
    const twice = [...spokeGrant(), { ...spokeGrant()[0], name: "hub-entry-2" }];
    assert.match(messages(twice).join("\n"), /2 access entries/);
  });

  it("ignores access entries outside the fleet grant (the stack's own admins)", () => {
    const admin: StackResourceSpec = {
      type: entryType,
      name: "admins",
      props: { principalArn: "arn:aws:iam::111122223333:role/platform-admins", kubernetesGroups: ["ops"] },
    };
    assert.deepEqual(messages([admin]), []);
  });

  it("rejects an access entry on the hub for Argo CD's own Pod Identity role", () => {
    const specs: StackResourceSpec[] = [
      { type: "aws:iam/role:Role", name: "argocd-fleet", props: { name: "hub-argocd-fleet" } },
      {
        type: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        name: "controller",
        props: { namespace: "argocd", serviceAccount: "argocd-application-controller" },
        propertyDependencies: { roleArn: ["argocd-fleet"] },
      },
      {
        type: entryType,
        name: "oops",
        props: { principalArn: "arn:aws:iam::111122223333:role/hub-argocd-fleet" },
        propertyDependencies: { principalArn: ["argocd-fleet"] },
      },
    ];
    const found = validateStack(eksFleetHubAccess, specs);
    assert.equal(found.length, 1);
    assert.match(found[0].message, /hub-argocd-fleet is Argo CD's Pod Identity role/);
    // Without the entry, nothing to report.
    assert.deepEqual(validateStack(eksFleetHubAccess, specs.slice(0, 2)), []);
  });

  it("the sample fleet passes, and a synthesized spoke's grant is what the rule inspects", async () => {
    for (const stack of ["fleet-hub", "fleet-spoke-a", "fleet-spoke-b"]) {
      const report = runPolicyPack(await synthesizedStack(stack), {});
      assert.deepEqual(
        report.violations.filter((violation) => violation.policy === "eks-fleet-hub-access"),
        [],
        stack,
      );
    }
    const spoke = await synthesizedStack("fleet-spoke-a");
    assert.ok(
      spoke.resources.some((resource) => resource.urn.includes(`${hubAccessComponent}$${entryType}`)),
    );
  });
});
