import { run } from "@bufbuild/cel";
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import {
  fleetRegistrarLabel,
  fleetSpokeLabel,
  registrarGroup,
  registrarRules,
  registrationManifest,
  registrationPolicy,
} from "../../infra/fleet/registration";
import { deleteSecretArgs } from "../../ops/fleet/registration";
import { serverSideApplyArgs } from "../../ops/fleet/drain";
import type { SynthResult } from "../../synth";
import { ofType, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";

/**
 * The hub's admission policy for registrars, evaluated with a CEL evaluator (@bufbuild/cel) the way the API server
 * evaluates a ValidatingAdmissionPolicy (k8s.io/apiserver v0.36.3 admission/plugin/cel): `object`/`oldObject` are
 * the unstructured objects (Secret data base64 strings), matchConditions select the request, variables are bound
 * as `variables.<name>`, every validation must be true, and an evaluation error denies (failurePolicy: Fail).
 * The policy evaluated is the one the synthesized fleet-hub declares, not a copy.
 */

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

interface PolicySpec {
  matchConditions: { name: string; expression: string }[];
  variables: { name: string; expression: string }[];
  validations: { expression: string; message: string }[];
}

/** CEL maps for JSON objects (the evaluator binds JS Maps as CEL maps). */
function cel(value: Json): unknown {
  if (Array.isArray(value)) return value.map(cel);
  if (value !== null && typeof value === "object")
    return new Map(Object.entries(value).map(([key, item]) => [key, cel(item)]));
  return value;
}

type Verdict = { admitted: true; matched: boolean } | { admitted: false; message: string };

function admit(
  spec: PolicySpec,
  request: { operation: "CREATE" | "UPDATE" | "DELETE"; namespace: string; groups: string[] },
  object: Json,
  oldObject: Json,
): Verdict {
  const bindings: Record<string, unknown> = {
    request: cel({
      operation: request.operation,
      namespace: request.namespace,
      userInfo: { username: "arn:aws:sts::444455556666:assumed-role/deploy/ci", groups: request.groups },
    }),
    object: cel(object),
    oldObject: cel(oldObject),
  };
  const evaluate = (expression: string): unknown => run(expression, bindings as never);
  try {
    if (!spec.matchConditions.every((condition) => evaluate(condition.expression) === true))
      return { admitted: true, matched: false };
    const variables = new Map<string, unknown>();
    bindings.variables = variables;
    for (const variable of spec.variables) variables.set(variable.name, evaluate(variable.expression));
  } catch (error) {
    return { admitted: false, message: `error: ${(error as Error).message}` };
  }
  for (const validation of spec.validations) {
    let result: unknown;
    try {
      result = evaluate(validation.expression);
    } catch (error) {
      return { admitted: false, message: `${validation.message} (error: ${(error as Error).message})` };
    }
    if (result !== true) return { admitted: false, message: validation.message };
  }
  return { admitted: true, matched: true };
}

const registrar = "444455556666";
const group = registrarGroup(registrar);
const namespace = "argocd";

function spokeSecret(overrides: {
  account?: string;
  environment?: string;
  clusterName?: string;
  name?: string;
  data?: Record<string, string>;
}): Record<string, Json> {
  const clusterName = overrides.clusterName ?? "remote-spoke";
  const manifest = registrationManifest({
    namespace,
    clusterName,
    labels: {
      "argocd.argoproj.io/secret-type": "cluster",
      environment: overrides.environment ?? "prod",
      enable_falco: "true",
    },
    annotations: { aws_cluster_name: clusterName },
    data: overrides.data ?? {
      name: clusterName,
      server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
      config: JSON.stringify({ awsAuthConfig: { clusterName, roleARN: "arn:aws:iam::444455556666:role/x" } }),
    },
    registrarAccount: overrides.account ?? registrar,
    stack: "acme/eks-gitops-platform/remote-spoke",
  }) as Record<string, Json>;
  if (overrides.name) (manifest.metadata as Record<string, Json>).name = overrides.name;
  return manifest;
}

/** Argo CD's own Secrets in its namespace: what a registrar must never touch. */
const argocdSecret = {
  apiVersion: "v1",
  kind: "Secret",
  type: "Opaque",
  metadata: { name: "argocd-secret", namespace, labels: { "app.kubernetes.io/part-of": "argocd" } },
  data: { "server.secretkey": "c2VjcmV0" },
};
const repoCredentials = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "repo-addons", namespace, labels: { "argocd.argoproj.io/secret-type": "repository" } },
  data: { url: "aHR0cHM6Ly9naXRodWIuY29t", password: "c2VjcmV0" },
};
/** The hub's own cluster Secret (written by the hub's deploy role, no fleet label). */
const hubOwnSecret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "cluster-fleet-hub",
    namespace,
    labels: { "argocd.argoproj.io/secret-type": "cluster", environment: "prod" },
    annotations: { aws_cluster_name: "fleet-hub" },
  },
  data: { name: "ZmxlZXQtaHVi", server: "aHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3Zj" },
};

describe("fleet: the registrars' admission policy, evaluated as the API server does", () => {
  let hub: SynthResult;
  let spec: PolicySpec;
  before(async () => {
    hub = await synthesizedStack("fleet-hub");
    const [policy] = ofType(hub, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
    spec = (policy.inputs as { spec: PolicySpec }).spec;
  });

  it("is the policy the hub declares: Fail on error, every Secret CREATE/UPDATE/DELETE, bound with Deny", () => {
    const [policy] = ofType(hub, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
    const full = policy.inputs.spec as Record<string, unknown>;
    assert.equal(full.failurePolicy, "Fail");
    assert.deepEqual(full.matchConstraints, {
      resourceRules: [
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          resources: ["secrets"],
          operations: ["CREATE", "UPDATE", "DELETE"],
        },
      ],
    });
    assert.deepEqual(
      { ...spec },
      { ...registrationPolicy({ environment: "prod", namespace, install: "helm" }), ...spec },
    );
    const [binding] = ofType(
      hub,
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    );
    assert.deepEqual(binding.inputs.spec, {
      policyName: (policy.inputs.metadata as { name: string }).name,
      validationActions: ["Deny"],
    });
  });

  const allowed: [string, () => Verdict][] = [
    [
      "a registrar creates its own spoke's Secret",
      () => admit(spec, { operation: "CREATE", namespace, groups: [group] }, spokeSecret({}), null),
    ],
    [
      "a registrar re-applies its own spoke's Secret (labels switched off to drain)",
      () =>
        admit(
          spec,
          { operation: "UPDATE", namespace, groups: [group, "system:authenticated"] },
          spokeSecret({ environment: "prod" }),
          spokeSecret({}),
        ),
    ],
    [
      "a registrar deletes its own spoke's Secret",
      () => admit(spec, { operation: "DELETE", namespace, groups: [group] }, null, spokeSecret({})),
    ],
  ];
  for (const [title, verdict] of allowed)
    it(`allows: ${title}`, () => assert.deepEqual(verdict(), { admitted: true, matched: true }));

  it("does not judge requests from anyone else (the hub's deploy role, Argo CD itself)", () => {
    assert.deepEqual(
      admit(
        spec,
        { operation: "UPDATE", namespace, groups: ["system:authenticated"] },
        argocdSecret,
        argocdSecret,
      ),
      { admitted: true, matched: false },
    );
  });

  const forbidden: [string, () => Verdict, RegExp][] = [
    [
      "overwriting argocd-secret",
      () => admit(spec, { operation: "UPDATE", namespace, groups: [group] }, argocdSecret, argocdSecret),
      /only write Argo CD cluster Secrets/,
    ],
    [
      "deleting argocd-secret",
      () => admit(spec, { operation: "DELETE", namespace, groups: [group] }, null, argocdSecret),
      /only write Argo CD cluster Secrets/,
    ],
    [
      "creating a repository credential",
      () => admit(spec, { operation: "CREATE", namespace, groups: [group] }, repoCredentials, null),
      /only write Argo CD cluster Secrets/,
    ],
    [
      "taking over the hub's own cluster Secret with a valid-looking new object",
      () =>
        admit(
          spec,
          { operation: "UPDATE", namespace, groups: [group] },
          spokeSecret({ clusterName: "fleet-hub" }),
          hubOwnSecret,
        ),
      /only write fleet spokes' Secrets/,
    ],
    [
      "taking over a spoke registered by another account (the hub's own foundation)",
      () =>
        admit(
          spec,
          { operation: "UPDATE", namespace, groups: [group] },
          spokeSecret({ clusterName: "fleet-spoke-a" }),
          spokeSecret({ clusterName: "fleet-spoke-a", account: "111122223333" }),
        ),
      /labelled eks-gitops-platform\/fleet-registrar=<its own account>/,
    ],
    [
      "deleting another registrar's spoke",
      () =>
        admit(
          spec,
          { operation: "DELETE", namespace, groups: [registrarGroup("777788889999")] },
          null,
          spokeSecret({}),
        ),
      /its own account/,
    ],
    [
      "claiming another account in the label",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace, groups: [group] },
          spokeSecret({ account: "777788889999" }),
          null,
        ),
      /its own account/,
    ],
    [
      "registering a spoke of another environment",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace, groups: [group] },
          spokeSecret({ environment: "staging" }),
          null,
        ),
      /this hub serves prod/,
    ],
    [
      "a name that is not cluster-<aws_cluster_name>",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace, groups: [group] },
          spokeSecret({ name: "cluster-fleet-spoke-a" }),
          null,
        ),
      /named cluster-<its aws_cluster_name annotation>/,
    ],
    [
      "data keys beyond Argo CD's connection (a project-scoped cluster)",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace, groups: [group] },
          spokeSecret({ data: { name: "x", server: "y", project: "default" } }),
          null,
        ),
      /data holds only name, server, config/,
    ],
    [
      "writing outside Argo CD's namespace",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace: "kube-system", groups: [group] },
          {
            ...spokeSecret({}),
            metadata: { ...(spokeSecret({}).metadata as object), namespace: "kube-system" },
          },
          null,
        ),
      /only in the argocd namespace/,
    ],
    [
      "a Secret without labels at all",
      () =>
        admit(
          spec,
          { operation: "CREATE", namespace, groups: [group] },
          { apiVersion: "v1", kind: "Secret", metadata: { name: "x", namespace } },
          null,
        ),
      /only write Argo CD cluster Secrets/,
    ],
  ];
  for (const [title, verdict, message] of forbidden)
    it(`denies: ${title}`, () => {
      const result = verdict();
      assert.equal(result.admitted, false, title);
      assert.match((result as { message: string }).message, message);
    });

  it("a spoke whose name is taken (the hub's own Secret, another account's spoke) is told to change cluster.name", () => {
    const request = { operation: "UPDATE" as const, namespace, groups: [group] };
    for (const [clusterName, taken] of [
      ["fleet-hub", hubOwnSecret],
      ["fleet-spoke-a", spokeSecret({ clusterName: "fleet-spoke-a", account: "111122223333" })],
    ] as const) {
      const verdict = admit(spec, request, spokeSecret({ clusterName }), taken as Json);
      assert.equal(verdict.admitted, false);
      assert.match(
        (verdict as { message: string }).message,
        /cluster-<name> already belongs to another cluster.*cluster\.name/,
        clusterName,
      );
    }
  });

  it("migration from fleet.spokes: a registrar takes over its old hub-written Secret only once labelled as docs/gitops.md says", () => {
    // The first fleet design's hub wrote each spoke's Secret itself: the gitops-bridge labels and annotations, no
    // fleet labels. A registrar's first server-side apply is an UPDATE of that object.
    const current = spokeSecret({});
    const metadata = current.metadata as { labels: Record<string, string> };
    const legacyLabels = Object.fromEntries(
      Object.entries(metadata.labels).filter(
        ([key]) => key !== fleetSpokeLabel && key !== fleetRegistrarLabel,
      ),
    );
    const legacy = { ...current, metadata: { ...(current.metadata as object), labels: legacyLabels } };
    const request = { operation: "UPDATE" as const, namespace, groups: [group] };
    assert.equal(admit(spec, request, current, legacy).admitted, false, "unlabelled: denied");
    // The step the docs give the hub's admin (who may label any Secret) before the spoke's `pulumi up`.
    const docs = readFileSync("docs/gitops.md", "utf8");
    const step = /kubectl -n argocd label secret cluster-<spoke> (.+?) --overwrite/.exec(docs);
    assert.ok(step, "docs/gitops.md gives the label command for registrar spokes");
    const added = Object.fromEntries(
      step[1].split(" ").map((pair) => {
        const [key, value] = pair.split("=");
        return [key, value === "<spoke-account-id>" ? registrar : value];
      }),
    );
    const labelled = { ...legacy, metadata: { ...legacy.metadata, labels: { ...legacyLabels, ...added } } };
    assert.deepEqual(admit(spec, request, current, labelled), { admitted: true, matched: true });
  });

  it("a capability hub admits no config key (the capability uses its own identity)", () => {
    const capability = registrationPolicy({ environment: "prod", namespace, install: "capability" });
    const request = { operation: "CREATE" as const, namespace, groups: [group] };
    assert.equal(admit(capability, request, spokeSecret({}), null).admitted, false);
    assert.deepEqual(
      admit(
        capability,
        request,
        spokeSecret({
          data: { name: "remote-spoke", server: "arn:aws:eks:eu-west-1:444455556666:cluster/remote-spoke" },
        }),
        null,
      ),
      { admitted: true, matched: true },
    );
  });

  it("what it cannot see: Secret data reaches admission base64-encoded and the API server's CEL has no decoder (vendored fact)", () => {
    const fact = upstreamFact<{
      admissionObjectVariables: { object: string };
      celLibraries: string[];
      base64Decoder: boolean;
    }>("apiserver-0.36.3.admission-facts.json");
    assert.equal(fact.facts.base64Decoder, false);
    assert.ok(!fact.facts.celLibraries.some((library) => /encoder|base64/i.test(library)));
    // So the policy never reads data values, only keys: the registrar is trusted with their content (docs/gitops.md).
    for (const validation of spec.validations)
      assert.doesNotMatch(validation.expression, /\bo\.data\[|\bo\.data\.(name|server|config)/);
    const secret = spokeSecret({});
    assert.ok(
      !JSON.stringify(secret.data).includes("awsAuthConfig"),
      "data is base64 in the object admission sees",
    );
  });
});

describe("fleet: what a registrar may do on the hub, and what registration needs", () => {
  let hub: SynthResult;
  before(async () => (hub = await synthesizedStack("fleet-hub")));

  it("the Role grants create/patch/delete on Secrets and nothing that reads them, and read on Applications only", () => {
    const [role] = ofType(hub, "kubernetes:rbac.authorization.k8s.io/v1:Role");
    const rules = role.inputs.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    assert.deepEqual(rules, registrarRules);
    const onSecrets = rules.filter(
      (rule) => rule.apiGroups.includes("") && rule.resources.includes("secrets"),
    );
    assert.deepEqual(onSecrets.flatMap((rule) => rule.verbs).sort(), ["create", "delete", "patch"]);
    for (const rule of rules) {
      assert.ok(!rule.verbs.includes("*") && !rule.resources.includes("*") && !rule.apiGroups.includes("*"));
      if (rule.resources.includes("secrets"))
        for (const verb of ["get", "list", "watch"])
          assert.ok(!rule.verbs.includes(verb), `no ${verb} on secrets`);
    }
    assert.equal((role.inputs.metadata as { namespace: string }).namespace, "argocd");
    const [binding] = ofType(hub, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    assert.deepEqual(binding.inputs.subjects, [
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group },
    ]);
    assert.deepEqual(ofType(hub, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"), []);
  });

  it("those verbs are exactly what the registration's kubectl calls send (vendored kubectl and apiserver facts)", () => {
    const kubectl = upstreamFact<{
      serverSideApply: {
        flags: string[];
        requests: string[];
        readsBeforeApply: boolean;
        lastAppliedAnnotationPatchOnlyWhenFieldManagerIs: string;
      };
      deleteByName: { flags: string[]; requests: string[] };
    }>("kubectl-0.36.3.registration-requests.json");
    const apiserver = upstreamFact<{
      applyPatchAuthorization: { verb: string; alsoAuthorizedWhenTheObjectIsCreated: string };
    }>("apiserver-0.36.3.admission-facts.json");
    const apply = serverSideApplyArgs("/tmp/x.json");
    for (const flag of kubectl.facts.serverSideApply.flags) assert.ok(apply.includes(flag), flag);
    // A field manager of our own: kubectl's extra last-applied PATCH runs only for its default manager.
    assert.notEqual(
      apply[apply.indexOf("--field-manager") + 1],
      kubectl.facts.serverSideApply.lastAppliedAnnotationPatchOnlyWhenFieldManagerIs,
    );
    assert.equal(kubectl.facts.serverSideApply.readsBeforeApply, false);
    const remove = deleteSecretArgs({ manifest: {}, name: "cluster-x", namespace, server: "s" });
    for (const flag of kubectl.facts.deleteByName.flags) assert.ok(remove.includes(flag), flag);
    const needed = new Set([
      ...kubectl.facts.serverSideApply.requests,
      apiserver.facts.applyPatchAuthorization.alsoAuthorizedWhenTheObjectIsCreated,
      ...kubectl.facts.deleteByName.requests,
    ]);
    assert.deepEqual([...needed].sort(), registrarRules[0].verbs.slice().sort());
  });

  it("one access entry per registrar: STANDARD, only its group, no access policy", () => {
    const entries = ofType(hub, "aws:eks/accessEntry:AccessEntry").filter(
      (entry) => entry.inputs.principalArn === "arn:aws:iam::444455556666:role/eks-gitops-prod-deploy",
    );
    assert.equal(entries.length, 1);
    assert.equal(entries[0].inputs.type, "STANDARD");
    assert.deepEqual(entries[0].inputs.kubernetesGroups, [group]);
    const associations = ofType(hub, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter(
      (association) => association.inputs.principalArn === entries[0].inputs.principalArn,
    );
    assert.deepEqual(associations, []);
    // Registrars authenticate only once the policy confining them is bound.
    const [binding] = ofType(
      hub,
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    );
    assert.ok(entries[0].dependencies.includes(binding.urn));
  });

  it("labels: a registered Secret says it is a fleet spoke and which account wrote it", () => {
    const labels = (spokeSecret({}).metadata as { labels: Record<string, string> }).labels;
    assert.equal(labels[fleetSpokeLabel], "true");
    assert.equal(labels[fleetRegistrarLabel], registrar);
  });
});
