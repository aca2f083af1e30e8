import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetSpokeLabel, registrationManifest } from "../../infra/fleet/registration";
import {
  checkHubRemovable,
  hubGuardOverride,
  listSpokesArgs,
  main as hubGuardMain,
} from "../../ops/fleet/hub-guard";
import {
  applyRegistration,
  main as registrationMain,
  parseRegistration,
  releaseOverride,
  releaseRegistration,
} from "../../ops/fleet/registration";
import type { Clock } from "../../ops/teardown/drain";
import { synthesizedStack } from "../support/stacks";

const server = "https://SPOKE.gr7.eu-west-1.eks.amazonaws.com";
const manifest = registrationManifest({
  namespace: "argocd",
  clusterName: "spoke",
  labels: { "argocd.argoproj.io/secret-type": "cluster", environment: "prod", enable_falco: "true" },
  annotations: { aws_cluster_name: "spoke" },
  data: { name: "spoke", server },
  registrarAccount: "111122223333",
  stack: "acme/eks-gitops-platform/spoke",
});
const env = {
  FLEET_REGISTRATION: JSON.stringify(manifest),
  FLEET_REGISTRATION_SERVER: server,
  FLEET_HUB_KUBECONFIG: "apiVersion: v1\nkind: Config\n",
};
const clock: Clock = { now: () => 0, sleep: async () => undefined };

/**
 * A hub as kubectl sees it: one ApplicationSet selecting enable_falco=true, its Application for the spoke until an
 * apply switches the label off. Records every call, and what each apply sent.
 */
function fakeHub() {
  const calls: string[][] = [];
  const applied: Record<string, unknown>[] = [];
  let falco = true;
  const run = async (args: readonly string[]) => {
    calls.push([...args]);
    if (args[0] === "apply") {
      const object = JSON.parse(readFileSync(args.at(-1) as string, "utf8")) as {
        metadata: { labels: Record<string, string> };
      };
      applied.push(object);
      falco = object.metadata.labels.enable_falco === "true";
      return "";
    }
    if (args[0] === "get" && args[1] === "applicationsets.argoproj.io")
      return JSON.stringify({
        items: [
          {
            metadata: { name: "falco", namespace: "argocd" },
            spec: { generators: [{ clusters: { selector: { matchLabels: { enable_falco: "true" } } } }] },
          },
        ],
      });
    if (args[0] === "get" && args[1] === "applications.argoproj.io")
      return JSON.stringify({
        items: falco
          ? [
              {
                metadata: {
                  name: "falco-spoke",
                  namespace: "argocd",
                  ownerReferences: [{ kind: "ApplicationSet", name: "falco" }],
                },
                spec: { destination: { server } },
              },
            ]
          : [],
      });
    return "";
  };
  return { run, calls, applied };
}

describe("fleet: registration commands (ops/fleet/registration.ts)", () => {
  let workDir: string;
  beforeEach(() => (workDir = mkdtempSync(join(tmpdir(), "fleet-ops-"))));
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  it("apply: one server-side apply of the whole Secret, nothing read", async () => {
    const hub = fakeHub();
    await applyRegistration(hub.run, workDir, parseRegistration(env));
    assert.deepEqual(
      hub.calls.map((call) => call.slice(0, 2)),
      [["apply", "--server-side"]],
    );
    assert.deepEqual(hub.applied, [manifest]);
  });

  it("release: drains the spoke's Applications through its own labels, then deletes the Secret without waiting on it", async () => {
    const hub = fakeHub();
    const log: string[] = [];
    const report = await releaseRegistration(hub.run, workDir, parseRegistration(env), clock, (line) =>
      log.push(line),
    );
    assert.deepEqual(report.waves, [{ wave: 0, labels: ["enable_falco"], applications: ["falco-spoke"] }]);
    assert.equal(
      (hub.applied[0].metadata as { labels: Record<string, string> }).labels.enable_falco,
      "false",
    );
    assert.deepEqual(hub.calls.at(-1), [
      "delete",
      "secret",
      "cluster-spoke",
      "--namespace",
      "argocd",
      "--ignore-not-found",
      "--wait=false",
    ]);
    // Only Argo CD objects are read; the registrar never reads a Secret.
    for (const call of hub.calls.filter((args) => args[0] === "get"))
      assert.match(call[1], /^application(set)?s\.argoproj\.io$/);
    assert.ok(log.at(-1)?.includes("deleted argocd/cluster-spoke"));
  });

  it("refuses a registration that is not a named Secret, and a missing variable, naming it", () => {
    assert.throws(() => parseRegistration({ ...env, FLEET_REGISTRATION: "{}" }), /not a Secret with a name/);
    assert.throws(
      () => parseRegistration({ ...env, FLEET_REGISTRATION_SERVER: "" }),
      /FLEET_REGISTRATION_SERVER is not set/,
    );
  });

  it(`release with ${releaseOverride}=true touches nothing (a hub gone for good); an unknown action is a usage error`, async () => {
    await registrationMain(["release"], { ...env, [releaseOverride]: "true", FLEET_HUB_KUBECONFIG: "" });
    await assert.rejects(
      registrationMain(["remove"], env),
      /unknown action "remove": pass apply or release[^]*usage: ts-node ops\/fleet\/registration.ts apply\|release/,
    );
  });
});

describe("fleet: the hub's destroy guard (ops/fleet/hub-guard.ts)", () => {
  it("refuses while spokes are registered, naming each and its stack, and lists names only", async () => {
    const calls: string[][] = [];
    const run = async (args: readonly string[]) => {
      calls.push([...args]);
      return "cluster-spoke-a   acme/eks-gitops-platform/spoke-a\ncluster-spoke-b   acme/eks-gitops-platform/spoke-b\n";
    };
    await assert.rejects(checkHubRemovable(run, "argocd"), (error: Error) => {
      assert.match(error.message, /2 spoke\(s\) are registered/);
      assert.match(error.message, /cluster-spoke-a {2}\(stack acme\/eks-gitops-platform\/spoke-a\)/);
      assert.match(error.message, /Destroy each spoke first/);
      assert.match(error.message, new RegExp(`${hubGuardOverride}=true`));
      return true;
    });
    assert.deepEqual(calls, [listSpokesArgs("argocd")]);
    assert.ok(calls[0].includes(`${fleetSpokeLabel}=true`));
    assert.ok(!calls[0].some((arg) => /json|yaml/.test(arg)), "never prints a Secret's data");
  });

  it("passes when no spoke is registered, and with the override", async () => {
    assert.equal(await checkHubRemovable(async () => "\n", "argocd"), "no spoke is registered");
    assert.match(await hubGuardMain({ [hubGuardOverride]: "true" }), /not checking/);
    await assert.rejects(hubGuardMain({}), /FLEET_HUB_NAMESPACE is not set/);
    await assert.rejects(hubGuardMain({ FLEET_HUB_NAMESPACE: "argocd" }), /FLEET_HUB_KUBECONFIG is not set/);
  });

  it("the synthesized hub deletes its guard first: after it, Argo CD's teardown and the registrars' grant", async () => {
    const hub = await synthesizedStack("fleet-hub");
    const guard = hub.resources.find((resource) => resource.name === "fleet-guard-check");
    assert.ok(guard, "the hub declares the guard");
    assert.equal(guard.inputs.delete, "npx --no-install ts-node --transpile-only ops/fleet/hub-guard.ts");
    assert.equal(guard.inputs.create, undefined, "delete-only");
    assert.equal(guard.inputs.environment, "[secret]");
    const urnOf = (name: string) => hub.resources.find((resource) => resource.name === name)?.urn as string;
    // (a component in dependsOn stands for its resources)
    for (const name of [
      "teardown-drain",
      "fleet-registrars-role-eks-gitops-prod-deploy-444455556666",
      "fleet-argocd-argocd-server",
    ])
      assert.ok(guard.dependencies.includes(urnOf(name)), `the guard depends on ${name}`);
  });
});
