import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import { everydayAddons } from "../../infra/config/addons";
import { everydayServiceAccounts } from "../../infra/addons/everyday";
import { externalDnsPolicy } from "../../infra/addons/external-dns";
import { externalSecretsPolicy } from "../../infra/addons/external-secrets";
import {
  IamStatement,
  loadBalancerControllerPolicy,
  loadBalancerControllerStatements,
} from "../../infra/addons/load-balancer-controller";
import { readYamlDocuments } from "../../infra/gitops/addon-files";
import { upstreamFact } from "../upstream";
import { addonsDir, applicationSets, chartPin, parseDocuments, Tree } from "./support";

/**
 * The everyday add-ons (metrics-server, AWS Load Balancer Controller, ExternalDNS, External Secrets) against the
 * upstream facts vendored at the pinned versions: IAM statements, chart values keys, and the config rules.
 */

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
const statementsOf = (document: string) => (JSON.parse(document) as { Statement: Statement[] }).Statement;
const list = (value: string | readonly string[]) => (typeof value === "string" ? [value] : [...value]);

/** One statement in a comparable form: Sid dropped, lists sorted, a string and a one-element list alike. */
function normalize(statement: Statement | IamStatement): unknown {
  const condition = Object.fromEntries(
    Object.entries(statement.Condition ?? {}).map(([operator, keys]) => [
      operator,
      Object.fromEntries(Object.entries(keys).map(([key, value]) => [key, list(value).sort()])),
    ]),
  );
  return {
    Effect: statement.Effect,
    Action: list(statement.Action).sort(),
    Resource: list(statement.Resource).sort(),
    Condition: condition,
  };
}

const lbcChartFacts = "aws-load-balancer-controller-3.5.0.values-keys.json";

describe("everyday add-ons: charts and Pod Identity", () => {
  it("the service accounts Pod Identity binds are the ones the charts run as, in the Application's namespace", () => {
    const folders = {
      awsLoadBalancerController: "aws-load-balancer-controller",
      externalDns: "external-dns",
      externalSecrets: "external-secrets",
    } as const;
    for (const [addon, folder] of Object.entries(folders)) {
      const binding = everydayServiceAccounts[addon as keyof typeof folders];
      const defaults = parseDocuments(path.join(addonsDir, folder, "values/defaults.yaml"))[0] as Tree;
      assert.equal((defaults.serviceAccount as Tree).name, binding.serviceAccount, folder);
      const set = applicationSets().find((entry) => entry.name === folder)?.set as Tree;
      const destination = ((((set.spec as Tree).template as Tree).spec as Tree).destination ?? {}) as Tree;
      assert.equal(destination.namespace, binding.namespace, folder);
    }
  });
});

describe("everyday add-ons: IAM against the upstream documents", () => {
  const lbc = upstreamFact<{ version: string; statements: Statement[] }>(
    "aws-load-balancer-controller-v3.5.0.iam-policy.json",
  );
  const lbcChart = upstreamFact<{ appVersion: string }>(lbcChartFacts);

  it("the Load Balancer Controller policy is upstream's iam_policy.json, statement for statement", () => {
    const expected = lbc.facts.statements.map(normalize);
    const actual = statementsOf(loadBalancerControllerPolicy("aws")).map(normalize);
    assert.equal(actual.length, expected.length, "same number of statements");
    actual.forEach((statement, index) => assert.deepEqual(statement, expected[index], `statement ${index}`));
  });

  it("only the partition changes in other partitions", () => {
    const china = JSON.stringify(loadBalancerControllerStatements("aws-cn"));
    assert.equal(
      china.replace(/arn:aws-cn:/g, "arn:aws:"),
      JSON.stringify(loadBalancerControllerStatements("aws")),
    );
    assert.ok(!china.includes("arn:aws:"));
  });

  it("the policy was read at the controller version of the pinned chart (a chart bump must re-read it)", () => {
    assert.equal(lbcChart.source.ref, `v${chartPin("aws-load-balancer-controller").version}`);
    assert.equal(lbc.source.ref, lbcChart.facts.appVersion);
    assert.equal(lbc.source.repo, "kubernetes-sigs/aws-load-balancer-controller");
    assert.equal(lbc.source.path, "docs/install/iam_policy.json");
  });

  it("fits the 10,240-character limit of a role's inline policies", () => {
    assert.ok(loadBalancerControllerPolicy("aws").length < 10240);
  });

  const dns = upstreamFact<{ statements: Statement[] }>("external-dns-1.21.1.iam-policy.json");
  const zones = ["Z0123456789ABCDEFGHIJ", "Z2EXAMPLE"];

  it("ExternalDNS gets upstream's actions, with the record actions on exactly the configured zones", () => {
    assert.equal(dns.source.ref, chartPin("external-dns").version);
    const ours = statementsOf(externalDnsPolicy("aws", zones));
    const upstreamActions = dns.facts.statements.flatMap((statement) => list(statement.Action)).sort();
    assert.deepEqual(ours.flatMap((statement) => list(statement.Action)).sort(), upstreamActions);
    for (const statement of ours) {
      for (const action of list(statement.Action)) {
        const upstream = dns.facts.statements.find((candidate) => list(candidate.Action).includes(action));
        assert.ok(upstream);
        if (list(upstream.Resource).includes("*")) {
          // Listing zones cannot be scoped; upstream grants it on "*" too.
          assert.deepEqual(list(statement.Resource), ["*"], action);
        } else {
          assert.deepEqual(
            list(statement.Resource).sort(),
            zones.map((zone) => `arn:aws:route53:::hostedzone/${zone}`).sort(),
            `${action} only on the configured zones`,
          );
        }
      }
    }
    assert.throws(() => externalDnsPolicy("aws", []), /at least one hosted zone/);
  });

  const secrets = upstreamFact<{ statements: Statement[]; serviceAccount: string }>(
    "external-secrets-2.9.0.iam-policy.json",
  );

  it("External Secrets gets upstream's Pod Identity actions, on the secrets under the name prefix only", () => {
    assert.equal(secrets.source.ref, chartPin("external-secrets").version);
    assert.equal(secrets.facts.serviceAccount, everydayServiceAccounts.externalSecrets.serviceAccount);
    const ours = statementsOf(
      externalSecretsPolicy({
        partition: "aws",
        region: "eu-west-1",
        accountId: "111122223333",
        namePrefix: "demo/",
      }),
    );
    assert.deepEqual(
      ours.flatMap((statement) => list(statement.Action)).sort(),
      secrets.facts.statements.flatMap((statement) => list(statement.Action)).sort(),
    );
    assert.deepEqual(
      ours.flatMap((statement) => list(statement.Resource)),
      ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:demo/*"],
    );
    for (const prefix of ["", "*", "team/*"]) {
      assert.throws(
        () =>
          externalSecretsPolicy({
            partition: "aws",
            region: "eu-west-1",
            accountId: "1",
            namePrefix: prefix,
          }),
        /literal and non-empty/,
      );
    }
  });
});

describe("everyday add-ons: config", () => {
  const context = { project: "eks-gitops-platform", stack: "test", region: "eu-west-1" };
  const base = {
    environment: "staging",
    access: { admins: ["arn:aws:iam::111122223333:role/platform-admins"] },
  };
  const resolve = (raw: Record<string, unknown>) => resolvePlatformConfig({ ...base, ...raw }, context);
  function problems(raw: Record<string, unknown>): string[] {
    try {
      resolve(raw);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.map((problem) => `${problem.key}: ${problem.message}`);
    }
    return [];
  }

  it("defaults: metrics-server everywhere, the LB controller in karpenter mode, External Secrets outside dev", () => {
    const staging = everydayAddons(resolve({}));
    assert.equal(staging.metricsServer, true);
    assert.equal(staging.awsLoadBalancerController, false, "auto mode: Auto Mode balances itself");
    assert.deepEqual(staging.externalSecrets, { enabled: true, namePrefix: "gitops-platform-test/" });
    assert.equal(staging.externalDns.enabled, false);
    const karpenter = everydayAddons(resolve({ compute: { mode: "karpenter" } }));
    assert.equal(karpenter.awsLoadBalancerController, true);
    const dev = everydayAddons(resolve({ environment: "dev", expiresOn: "2026-12-31" }));
    assert.equal(dev.externalSecrets.enabled, false, "dev clusters are short-lived; opt in");
    const prod = everydayAddons(resolve({ environment: "prod" }));
    assert.equal(prod.externalSecrets.enabled, true);
    const dns = everydayAddons(
      resolve({ addons: { externalDns: { enabled: true, hostedZoneIds: ["Z1ABC"] } } }),
    );
    assert.equal(dns.externalDns.policy, "upsert-only");
    const prefixed = everydayAddons(resolve({ addons: { externalSecrets: { namePrefix: "acme/prod/" } } }));
    assert.equal(prefixed.externalSecrets.namePrefix, "acme/prod/");
  });

  it("refuses the LB controller on Auto Mode, explaining Auto Mode's own load balancing", () => {
    const found = problems({ addons: { awsLoadBalancerController: true } });
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(
      found[0],
      /^eks-gitops-platform:addons\.awsLoadBalancerController: EKS Auto Mode runs its own/,
    );
    assert.match(found[0], /eks\.amazonaws\.com\/nlb/);
    assert.match(found[0], /eks\.amazonaws\.com\/alb/);
    assert.match(found[0], /compute\.mode: karpenter/);
    assert.deepEqual(problems({ addons: { awsLoadBalancerController: false } }), []);
  });

  it("refuses ExternalDNS without zones, malformed or repeated zone ids, and an unknown policy", () => {
    assert.match(
      problems({ addons: { externalDns: { enabled: true } } }).join("\n"),
      /addons\.externalDns\.hostedZoneIds: ExternalDNS manages only the Route 53 zones listed here/,
    );
    assert.match(
      problems({ addons: { externalDns: { enabled: true, hostedZoneIds: ["/hostedzone/Z1ABC"] } } }).join(
        "\n",
      ),
      /addons\.externalDns\.hostedZoneIds\.0: must be a Route 53 hosted zone id .*without the \/hostedzone\/ prefix/,
    );
    assert.match(
      problems({ addons: { externalDns: { enabled: true, hostedZoneIds: ["Z1ABC", "Z1ABC"] } } }).join("\n"),
      /lists Z1ABC more than once/,
    );
    assert.match(
      problems({
        addons: { externalDns: { enabled: true, hostedZoneIds: ["Z1ABC"], policy: "create-all" } },
      }).join("\n"),
      /addons\.externalDns\.policy: must be "upsert-only"/,
    );
  });

  it("refuses a wildcard, empty or open-ended External Secrets prefix (IAM matches secret:<prefix>* as text)", () => {
    for (const namePrefix of ["", "*", "team/*", "platform-prod", "/", "acme/prod-"]) {
      assert.match(
        problems({ addons: { externalSecrets: { namePrefix } } }).join("\n"),
        /addons\.externalSecrets\.namePrefix: must be the start of the Secrets Manager names/,
        JSON.stringify(namePrefix),
      );
    }
  });

  it("refuses HA Argo CD (HPAs) without metrics-server, naming both ways out", () => {
    const found = problems({ gitops: { highAvailability: true }, addons: { metricsServer: false } });
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(
      found[0],
      /addons\.metricsServer: HA Argo CD .* set addons\.metricsServer: true, or gitops\.highAvailability: false/,
    );
    assert.deepEqual(problems({ addons: { metricsServer: false } }), [], "single Argo CD has fixed replicas");
  });

  it("the HA Argo CD values autoscale the API and repo servers with requests set, the single values do not", () => {
    const ha = readYamlDocuments(path.join(addonsDir, "argo-cd/values/availability/ha.yaml"))[0] as Tree;
    for (const component of ["server", "repoServer"]) {
      const values = ha[component] as Tree;
      assert.equal((values.autoscaling as Tree).enabled, true, component);
      assert.ok(((values.autoscaling as Tree).minReplicas as number) >= 2, `${component}: HA floor`);
      // Utilization targets are relative to requests: without them the HPA reports "missing request".
      const requests = ((values.resources as Tree).requests ?? {}) as Tree;
      assert.ok(requests.cpu && requests.memory, `${component}: requests for the HPA's targets`);
    }
    const single = readYamlDocuments(
      path.join(addonsDir, "argo-cd/values/availability/single.yaml"),
    )[0] as Tree;
    assert.equal(((single.server as Tree).autoscaling as Tree | undefined)?.enabled, undefined);
  });
});
