import { strict as assert } from "assert";
import {
  hubAccessPolicy,
  registrarGroupPrefix as programGroupPrefix,
  registrarRules,
} from "../../infra/fleet";
import {
  eksFleetHubAccess,
  hubAccessComponent,
  hubAccessPolicies,
  registrarGroupPrefix,
  registrarsComponent,
} from "../../policies/fleet";
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

/** The hub's grant to one registrar, as infra/fleet/registrars.ts declares it. */
function registrarGrant(
  overrides: Partial<Record<string, Record<string, unknown>>> = {},
): StackResourceSpec[] {
  const principalArn = "arn:aws:iam::444455556666:role/eks-gitops-prod-deploy";
  return [
    {
      type: entryType,
      name: "registrar-entry",
      parentType: registrarsComponent,
      props: {
        principalArn,
        type: "STANDARD",
        kubernetesGroups: [`${registrarGroupPrefix}444455556666`],
        ...overrides.entry,
      },
    },
    {
      type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
      name: "registrar-role",
      parentType: registrarsComponent,
      props: { metadata: { namespace: "argocd" }, rules: registrarRules, ...overrides.role },
    },
    {
      type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
      name: "registrar-policy",
      parentType: registrarsComponent,
      props: { spec: { failurePolicy: "Fail", ...overrides.policy } },
    },
    {
      type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
      name: "registrar-binding",
      parentType: registrarsComponent,
      props: { spec: { validationActions: ["Deny"], ...overrides.binding } },
    },
  ];
}

describe("policies: eks-fleet-hub-access on a hub's registrars", () => {
  it("passes the grant the program makes, and agrees with it on the group prefix", () => {
    assert.deepEqual(messages(registrarGrant()), []);
    assert.equal(registrarGroupPrefix, programGroupPrefix);
  });

  it("rejects an access policy for a registrar, inside the grant or beside it", () => {
    const association = (parentType?: string): StackResourceSpec => ({
      type: associationType,
      name: "registrar-admin",
      ...(parentType ? { parentType } : {}),
      props: {
        principalArn: "arn:aws:iam::444455556666:role/eks-gitops-prod-deploy",
        policyArn: policyArn("AmazonEKSClusterAdminPolicy"),
      },
    });
    for (const extra of [association(registrarsComponent), association()])
      assert.match(
        messages([...registrarGrant(), extra]).join("\n"),
        /registrar is granted an EKS access policy/,
      );
  });

  it("rejects other groups, a second group, and a non-STANDARD entry", () => {
    assert.match(
      messages(registrarGrant({ entry: { kubernetesGroups: ["system:masters"] } })).join("\n"),
      /maps \["system:masters"\]/,
    );
    assert.match(
      messages(
        registrarGrant({ entry: { kubernetesGroups: [`${registrarGroupPrefix}444455556666`, "ops"] } }),
      ).join("\n"),
      /exactly one group/,
    );
    assert.match(messages(registrarGrant({ entry: { type: "EC2_LINUX" } })).join("\n"), /use STANDARD/);
  });

  it("rejects a Role that reads Secrets or uses wildcards, and any cluster-scoped RBAC", () => {
    for (const verb of ["get", "list", "watch"])
      assert.match(
        messages(
          registrarGrant({
            role: { rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["create", verb] }] },
          }),
        ).join("\n"),
        new RegExp(`may ${verb} Secrets`),
      );
    assert.match(
      messages(
        registrarGrant({ role: { rules: [{ apiGroups: [""], resources: ["*"], verbs: ["create"] }] } }),
      ).join("\n"),
      /wildcard rule/,
    );
    assert.match(
      messages([
        ...registrarGrant(),
        {
          type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
          name: "oops",
          parentType: registrarsComponent,
          props: {},
        },
      ]).join("\n"),
      /cluster-scoped RBAC/,
    );
  });

  it("rejects registrars without a denying, fail-closed admission policy", () => {
    const pattern = /no ValidatingAdmissionPolicy \(failurePolicy Fail, bound with Deny\)/;
    assert.match(messages(registrarGrant({ binding: { validationActions: ["Audit"] } })).join("\n"), pattern);
    assert.match(messages(registrarGrant({ policy: { failurePolicy: "Ignore" } })).join("\n"), pattern);
    assert.match(
      messages(registrarGrant().filter((spec) => !spec.type.includes("admission"))).join("\n"),
      pattern,
    );
  });

  it("inspects the synthesized hub's registrars", async () => {
    const hub = await synthesizedStack("fleet-hub");
    const inside = hub.resources.filter((resource) => resource.urn.includes(`${registrarsComponent}$`));
    assert.deepEqual([...new Set(inside.map((resource) => resource.type))].sort(), [
      "aws:eks/accessEntry:AccessEntry",
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ]);
  });
});
