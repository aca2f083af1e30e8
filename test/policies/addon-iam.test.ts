import { strict as assert } from "assert";
import { externalDnsPolicy } from "../../infra/addons/external-dns";
import { externalSecretsPolicy } from "../../infra/addons/external-secrets";
import {
  loadBalancerControllerPolicy,
  loadBalancerControllerStatements,
} from "../../infra/addons/load-balancer-controller";
import {
  actionMatches,
  addonLoadBalancerControllerUpstream,
  addonRoute53Scoped,
  addonSecretsScoped,
  beyondUpstream,
  IamStatement,
} from "../../policies/addon-iam";
import packCopy from "../../policies/lib/aws-load-balancer-controller-iam-policy.json";
import { upstreamFact } from "../upstream";
import { UNKNOWN_VALUE, validateResource } from "./support";

const rolePolicy = "aws:iam/rolePolicy:RolePolicy";
const managedPolicy = "aws:iam/policy:Policy";
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

describe("policies: add-on IAM", () => {
  it("the pack's copy of the LB controller policy agrees with the program's and with the vendored upstream fact", () => {
    const upstream = upstreamFact<{ statements: IamStatement[] }>(
      "aws-load-balancer-controller-v3.5.0.iam-policy.json",
    );
    assert.deepEqual(packCopy.Statement, upstream.facts.statements);
    assert.deepEqual(JSON.parse(JSON.stringify(loadBalancerControllerStatements("aws"))), packCopy.Statement);
  });

  it("matches IAM action wildcards case-insensitively", () => {
    assert.ok(actionMatches("route53:*", "route53:ChangeResourceRecordSets"));
    assert.ok(actionMatches("*", "secretsmanager:GetSecretValue"));
    assert.ok(actionMatches("route53:change*", "route53:ChangeResourceRecordSets"));
    assert.ok(!actionMatches("route53:List*", "route53:ChangeResourceRecordSets"));
  });

  describe("addon-route53-zones-scoped", () => {
    it("passes the platform's ExternalDNS policy (configured zones; ListHostedZones on * as upstream)", () => {
      const props = { role: "demo-external-dns", policy: externalDnsPolicy("aws", ["Z1ABC", "Z2DEF"]) };
      assert.deepEqual(validateResource(addonRoute53Scoped, rolePolicy, props), []);
    });

    it("rejects record changes on every zone: *, hostedzone/*, a service wildcard, NotResource", () => {
      for (const statement of [
        { Effect: "Allow", Action: ["route53:ChangeResourceRecordSets"], Resource: "*" },
        { Effect: "Allow", Action: "route53:*", Resource: ["arn:aws-cn:route53:::hostedzone/*"] },
        { Effect: "Allow", Action: "route53:Change*", NotResource: "arn:aws:route53:::hostedzone/Z1" },
      ]) {
        const messages = validateResource(addonRoute53Scoped, managedPolicy, { policy: doc(statement) });
        assert.equal(messages.length, 1, JSON.stringify(statement));
        assert.match(messages[0], /every Route 53 hosted zone .* arn:aws:route53:::hostedzone\/<zone id>/);
      }
    });

    it("leaves `*` on `*` to iam-no-admin-access, and skips a document unknown during preview, and a Deny", () => {
      const admin = doc({ Effect: "Allow", Action: "*", Resource: "*" });
      assert.deepEqual(validateResource(addonRoute53Scoped, rolePolicy, { policy: admin }), []);
      assert.deepEqual(validateResource(addonRoute53Scoped, rolePolicy, { policy: UNKNOWN_VALUE }), []);
      const deny = doc({ Effect: "Deny", Action: "route53:*", Resource: "*" });
      assert.deepEqual(validateResource(addonRoute53Scoped, rolePolicy, { policy: deny }), []);
    });
  });

  describe("addon-secrets-manager-scoped", () => {
    it("passes the platform's External Secrets policy (the name prefix)", () => {
      const policy = externalSecretsPolicy({
        partition: "aws",
        region: "eu-west-1",
        accountId: "111122223333",
        namePrefix: "demo/",
      });
      assert.deepEqual(validateResource(addonSecretsScoped, rolePolicy, { policy }), []);
    });

    it("rejects reading every secret: * and secret:*", () => {
      for (const resource of ["*", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*"]) {
        const policy = doc({
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: resource,
        });
        const messages = validateResource(addonSecretsScoped, rolePolicy, { policy });
        assert.equal(messages.length, 1, resource);
        assert.match(messages[0], /read every secret.*secret:<prefix>\*/);
      }
      // Listing is not reading: upstream's optional ListSecrets on "*" is not this rule's concern.
      const list = doc({ Effect: "Allow", Action: "secretsmanager:ListSecrets", Resource: "*" });
      assert.deepEqual(validateResource(addonSecretsScoped, rolePolicy, { policy: list }), []);
    });
  });

  describe("addon-lb-controller-policy-upstream", () => {
    const role = "demo-aws-load-balancer-controller";

    it("passes upstream's policy in any partition", () => {
      for (const partition of ["aws", "aws-cn", "aws-us-gov"]) {
        const props = { role, policy: loadBalancerControllerPolicy(partition) };
        assert.deepEqual(
          validateResource(addonLoadBalancerControllerUpstream, rolePolicy, props),
          [],
          partition,
        );
      }
    });

    it("rejects a wildcard action, a dropped tag condition, and an extra action", () => {
      const upstream = JSON.parse(loadBalancerControllerPolicy("aws")) as { Statement: IamStatement[] };
      const wildcard = doc(...upstream.Statement, {
        Effect: "Allow",
        Action: "elasticloadbalancing:*",
        Resource: "*",
      });
      const unconditioned = doc(
        ...upstream.Statement.map((statement) =>
          list(statement.Action).includes("elasticloadbalancing:DeleteLoadBalancer")
            ? { ...statement, Condition: undefined }
            : statement,
        ),
      );
      const extra = doc(...upstream.Statement, {
        Effect: "Allow",
        Action: ["ec2:TerminateInstances"],
        Resource: "*",
      });
      for (const [label, policy, expected] of [
        ["wildcard", wildcard, /elasticloadbalancing:\* on \*/],
        ["unconditioned", unconditioned, /elasticloadbalancing:DeleteLoadBalancer on \*/],
        ["extra", extra, /ec2:TerminateInstances on \*/],
      ] as const) {
        const messages = validateResource(addonLoadBalancerControllerUpstream, rolePolicy, { role, policy });
        assert.equal(messages.length, 1, label);
        assert.match(messages[0], expected, label);
        assert.match(messages[0], /grants more than upstream's iam_policy\.json/);
      }
    });

    it("recognises a controller policy by its tag key or its role name, and leaves other ELB users alone", () => {
      const broad = doc({ Effect: "Allow", Action: "elasticloadbalancing:*", Resource: "*" });
      assert.equal(
        validateResource(addonLoadBalancerControllerUpstream, rolePolicy, { role, policy: broad }).length,
        1,
        "named for the controller",
      );
      assert.deepEqual(
        validateResource(addonLoadBalancerControllerUpstream, rolePolicy, {
          role: "ci-deployer",
          policy: broad,
        }),
        [],
        "some other role managing load balancers is not the controller",
      );
    });

    it("beyondUpstream lists nothing for upstream's own statements", () => {
      assert.deepEqual(beyondUpstream(loadBalancerControllerStatements("aws")), []);
    });
  });
});

function list(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === "string" ? [value] : [...value];
}
