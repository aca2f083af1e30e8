import { strict as assert } from "assert";
import { iamNoAdminAccess, iamTrustPolicyScoped } from "../../policies/iam";
import { eksAccessAdminScoped } from "../../policies/identity";
import { kmsKeyPolicyNoWildcard } from "../../policies/kms-and-logs";
import { UNKNOWN_VALUE, validateResource, validateStack } from "./support";

const role = "aws:iam/role:Role";
const rolePolicy = "aws:iam/rolePolicy:RolePolicy";
const attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const key = "aws:kms/key:Key";
const association = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const entry = "aws:eks/accessEntry:AccessEntry";
const policy = (...statements: Record<string, unknown>[]) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((statement) => ({ Effect: "Allow", ...statement })),
  });
const service = (name: string) => policy({ Principal: { Service: name }, Action: "sts:AssumeRole" });

describe("policies: IAM and access grants", () => {
  describe("iam-no-admin-access", () => {
    it("rejects AdministratorAccess attached or listed, and inline * on * (also as NotAction), naming the resource and the fix", () => {
      assert.deepEqual(
        validateResource(iamNoAdminAccess, attachment, {
          role: "ci",
          policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
        }),
        [
          "subject attaches arn:aws:iam::aws:policy/AdministratorAccess, full administrator rights over the account; grant only the actions and resources this identity needs (an AWS managed job-function policy or a scoped inline policy).",
        ],
      );
      assert.equal(
        validateResource(iamNoAdminAccess, role, {
          assumeRolePolicy: service("ec2.amazonaws.com"),
          managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
        }).length,
        1,
      );
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          role: "ci",
          policy: policy({ Sid: "All", Action: "*", Resource: "*" }),
        }),
        [
          'subject policy statement 0 (Sid All) allows "Action": "*" on "Resource": "*": full administrator rights; grant only the actions and resources this identity needs (an AWS managed job-function policy or a scoped inline policy).',
        ],
      );
      assert.match(
        validateResource(iamNoAdminAccess, role, {
          inlinePolicies: [{ name: "x", policy: policy({ NotAction: ["iam:*"], Resource: "*" }) }],
        })[0],
        /inlinePolicies\[0\] statement 0 allows every action except iam:\* \(NotAction\)/,
      );
      // iam:* on every resource, or IAMFullAccess, can attach AdministratorAccess to itself: admin in two steps.
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          role: "ci",
          policy: policy({ Action: ["s3:GetObject", "IAM:*"], Resource: "*" }),
        }),
        [
          'subject policy statement 0 allows "Action": ["s3:GetObject","IAM:*"] on "Resource": "*": full administrator rights; grant only the actions and resources this identity needs (an AWS managed job-function policy or a scoped inline policy).',
        ],
      );
      assert.equal(
        validateResource(iamNoAdminAccess, attachment, {
          policyArn: "arn:aws:iam::aws:policy/IAMFullAccess",
        }).length,
        1,
      );
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          policy: policy({ Action: "iam:*", Resource: "arn:aws:iam::111122223333:role/app-*" }),
        }),
        [],
      );
    });

    it("passes scoped grants, the EKS managed policies, Deny statements and unknown documents", () => {
      assert.deepEqual(
        validateResource(iamNoAdminAccess, attachment, {
          policyArn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        }),
        [],
      );
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          policy: policy({ Action: "s3:GetObject", Resource: "*" }),
        }),
        [],
      );
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          policy: policy({ Action: "ec2:*", Resource: "arn:aws:ec2:*:*:instance/*" }),
        }),
        [],
      );
      assert.deepEqual(
        validateResource(iamNoAdminAccess, rolePolicy, {
          policy: JSON.stringify({ Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] }),
        }),
        [],
      );
      assert.deepEqual(validateResource(iamNoAdminAccess, rolePolicy, { policy: UNKNOWN_VALUE }), []);
    });
  });

  describe("iam-trust-policy-scoped", () => {
    it("rejects a trust in *, in a whole account, and GitHub OIDC without a sub condition", () => {
      assert.deepEqual(
        validateResource(iamTrustPolicyScoped, role, {
          assumeRolePolicy: policy({ Principal: "*", Action: "sts:AssumeRole" }),
        }),
        [
          'Role subject assumeRolePolicy statement 0 trusts "*": any AWS identity in any account can assume this role; name the service or role ARNs that may assume it (or restrict "*" with an aws:PrincipalOrgID / aws:PrincipalAccount condition).',
        ],
      );
      assert.deepEqual(
        validateResource(iamTrustPolicyScoped, role, {
          assumeRolePolicy: policy({
            Principal: { AWS: ["arn:aws:iam::999988887777:root"] },
            Action: "sts:AssumeRole",
          }),
        }),
        [
          "Role subject assumeRolePolicy statement 0 trusts account 999988887777 as a whole (arn:aws:iam::999988887777:root): every user and role there that is allowed sts:AssumeRole can assume this role; name the role ARNs that need it, or list the account in this policy's trustedAccountIds if that is intended.",
        ],
      );
      assert.equal(
        validateResource(iamTrustPolicyScoped, role, {
          assumeRolePolicy: policy({ Principal: { AWS: "999988887777" }, Action: "sts:AssumeRole" }),
        }).length,
        1,
      );
      const github = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
      assert.match(
        validateResource(iamTrustPolicyScoped, role, {
          assumeRolePolicy: policy({
            Principal: { Federated: github },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" } },
          }),
        })[0],
        /trusts GitHub's OIDC provider without a condition on token\.actions\.githubusercontent\.com:sub/,
      );
    });

    it("passes services, named roles, * restricted to the organisation, trusted accounts and scoped GitHub OIDC", () => {
      const ok = (document: string, config = {}) =>
        assert.deepEqual(
          validateResource(iamTrustPolicyScoped, role, { assumeRolePolicy: document }, config),
          [],
        );
      ok(service("eks.amazonaws.com"));
      ok(policy({ Principal: { AWS: "arn:aws:iam::999988887777:role/deployer" }, Action: "sts:AssumeRole" }));
      ok(
        policy({
          Principal: "*",
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } },
        }),
      );
      ok(policy({ Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "sts:AssumeRole" }), {
        trustedAccountIds: ["111122223333"],
      });
      ok(
        policy({
          Principal: {
            Federated: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
          },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringLike: {
              "token.actions.githubusercontent.com:sub": "repo:acme/platform:ref:refs/heads/main",
            },
          },
        }),
      );
      ok(UNKNOWN_VALUE);
    });
  });

  describe("kms-key-policy-no-wildcard", () => {
    it("rejects kms:* to *, and other KMS actions to * without an account condition", () => {
      assert.deepEqual(
        validateResource(kmsKeyPolicyNoWildcard, key, {
          policy: policy({ Sid: "Open", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" }),
        }),
        [
          'Key subject policy statement 0 (Sid Open) grants kms:* to "*": anyone can use, re-key, disable or schedule the key for deletion; grant kms:* only to the account root (arn:aws:iam::<account>:root) and name the roles that use the key.',
        ],
      );
      assert.match(
        validateResource(kmsKeyPolicyNoWildcard, "aws:kms/keyPolicy:KeyPolicy", {
          policy: policy({ Principal: "*", Action: ["kms:Decrypt"], Resource: "*" }),
        })[0],
        /grants kms:Decrypt to "\*" with no aws:PrincipalAccount/,
      );
    });

    it("passes the account root with kms:*, services, and * pinned to the caller account", () => {
      assert.deepEqual(
        validateResource(kmsKeyPolicyNoWildcard, key, {
          policy: policy(
            { Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "kms:*", Resource: "*" },
            {
              Principal: { Service: "logs.eu-west-1.amazonaws.com" },
              Action: ["kms:Encrypt*"],
              Resource: "*",
            },
            {
              Principal: { AWS: "*" },
              Action: ["kms:Decrypt"],
              Resource: "*",
              Condition: { StringEquals: { "kms:CallerAccount": "111122223333" } },
            },
          ),
        }),
        [],
      );
    });
  });

  describe("eks-access-admin-scoped", () => {
    const grant = (name: string, principalArn: string, policyName = "AmazonEKSClusterAdminPolicy") => ({
      type: association,
      name,
      props: {
        policyArn: `arn:aws:eks::aws:cluster-access-policy/${policyName}`,
        principalArn,
        accessScope: { type: "cluster" },
      },
    });

    it("rejects admin for *, an account root, a viewer (by its view grant or its name) and system:masters", () => {
      assert.deepEqual(validateStack(eksAccessAdminScoped, [grant("everyone", "*")]), [
        {
          message:
            'Access policy association everyone grants AmazonEKSClusterAdminPolicy to *, but "*" matches every identity; grant admin only to named administrator roles (access.admins) and give viewers AmazonEKSViewPolicy.',
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/accessPolicyAssociation:AccessPolicyAssociation::everyone",
        },
      ]);
      assert.match(
        validateStack(eksAccessAdminScoped, [
          grant("root", "arn:aws:iam::999988887777:root", "AmazonEKSAdminPolicy"),
        ])[0].message,
        /is account 999988887777's root, i\.e\. every user and role in that account/,
      );
      const developers = "arn:aws:iam::111122223333:role/developers";
      assert.match(
        validateStack(eksAccessAdminScoped, [
          grant("dev-view", developers, "AmazonEKSViewPolicy"),
          grant("dev-admin", developers),
        ])[0].message,
        /is also granted a view policy in this stack: a viewer/,
      );
      assert.match(
        validateStack(eksAccessAdminScoped, [
          grant("auditors", "arn:aws:iam::111122223333:role/ReadOnly-Auditors"),
        ])[0].message,
        /is named as a viewer\/read-only identity/,
      );
      assert.match(
        validateStack(eksAccessAdminScoped, [
          {
            type: entry,
            name: "legacy",
            props: { principalArn: developers, kubernetesGroups: ["system:masters"] },
          },
        ])[0].message,
        /^Access entry legacy puts arn:aws:iam::111122223333:role\/developers in kubernetesGroups system:masters/,
      );
    });

    it("passes named admin roles, viewers with view policies, and unknown principals", () => {
      assert.deepEqual(
        validateStack(eksAccessAdminScoped, [
          grant("admins", "arn:aws:iam::111122223333:role/platform-admins"),
          grant("developers", "arn:aws:iam::111122223333:role/developers", "AmazonEKSViewPolicy"),
          grant("computed", UNKNOWN_VALUE),
          { type: entry, name: "nodes", props: { principalArn: UNKNOWN_VALUE, type: "EC2" } },
        ]),
        [],
      );
    });
  });
});
