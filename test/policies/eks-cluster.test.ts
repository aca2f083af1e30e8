import { strict as assert } from "assert";
import {
  classifyVersion,
  eksAccessEntriesOnly,
  eksAutoModeConsistent,
  eksAutoModeNoRedundantAddons,
  eksControlPlaneLogging,
  eksEndpointPrivate,
  eksNoCreatorAdmin,
  eksSecretsEncryption,
  eksStandardSupport,
  eksVersionSupported,
  eksVersionUpgradeDue,
} from "../../policies/eks-cluster";
import { newestKubernetesVersion } from "../../infra/config/kubernetes-versions";
import { goodCluster, UNKNOWN_VALUE, validateResource, validateStack } from "./support";

const cluster = "aws:eks/cluster:Cluster";

describe("policies: EKS cluster", () => {
  describe("eks-endpoint-private", () => {
    it("passes a private-only endpoint", () => {
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, goodCluster()), []);
    });

    it("rejects a public endpoint open to 0.0.0.0/0 when the stack does not allow public access", () => {
      const props = goodCluster({
        vpcConfig: {
          endpointPrivateAccess: true,
          endpointPublicAccess: true,
          publicAccessCidrs: ["0.0.0.0/0"],
          subnetIds: [],
        },
      });
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, props), [
        "The API endpoint is public (endpointPublicAccess true; open to 0.0.0.0/0) but this stack's policy config does not allow a public endpoint; set vpcConfig.endpointPublicAccess: false and reach the API from inside the VPC.",
      ]);
    });

    it("treats an unset endpointPublicAccess as public, as AWS does", () => {
      const props = goodCluster({ vpcConfig: { endpointPrivateAccess: true, subnetIds: [] } });
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, props), [
        "The API endpoint is public (endpointPublicAccess unset, which AWS treats as true; open to 0.0.0.0/0 (unset)) but this stack's policy config does not allow a public endpoint; set vpcConfig.endpointPublicAccess: false and reach the API from inside the VPC.",
      ]);
    });

    it("requires private access on", () => {
      const props = goodCluster({ vpcConfig: { endpointPublicAccess: false, subnetIds: [] } });
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, props), [
        "vpcConfig.endpointPrivateAccess is off (unset means off): nodes and in-VPC runners would reach the API through the internet; set it to true.",
      ]);
    });

    it("where config allows public access, accepts narrow CIDRs and rejects 0.0.0.0/0, wide ranges and no CIDRs", () => {
      const allow = { allowPublicAccess: true };
      const withCidrs = (publicAccessCidrs?: string[]) =>
        goodCluster({
          vpcConfig: {
            endpointPrivateAccess: true,
            endpointPublicAccess: true,
            publicAccessCidrs,
            subnetIds: [],
          },
        });
      assert.deepEqual(
        validateResource(eksEndpointPrivate, cluster, withCidrs(["203.0.113.10/32"]), allow),
        [],
      );
      assert.deepEqual(
        validateResource(
          eksEndpointPrivate,
          cluster,
          withCidrs(["203.0.113.10/32", "0.0.0.0/0", "10.0.0.0/8"]),
          allow,
        ),
        [
          "publicAccessCidrs 203.0.113.10/32, 0.0.0.0/0, 10.0.0.0/8 together open the API to the whole IPv4 internet, more than a /16; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
        ],
      );
      // Judged together: two halves of the internet are the internet; two /17s exceed a /16.
      assert.deepEqual(
        validateResource(eksEndpointPrivate, cluster, withCidrs(["0.0.0.0/1", "128.0.0.0/1"]), allow),
        [
          "publicAccessCidrs 0.0.0.0/1, 128.0.0.0/1 together open the API to the whole IPv4 internet, more than a /16; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
        ],
      );
      assert.deepEqual(
        validateResource(
          eksEndpointPrivate,
          cluster,
          withCidrs(["52.0.0.0/17", "52.0.128.0/17", "52.1.0.0/17"]),
          allow,
        ),
        [
          "publicAccessCidrs 52.0.0.0/17, 52.0.128.0/17, 52.1.0.0/17 together open the API to 98,304 public IPv4 addresses, more than a /16; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
        ],
      );
      assert.deepEqual(
        validateResource(eksEndpointPrivate, cluster, withCidrs(["52.0.0.0/17", "52.0.128.0/17"]), allow),
        [],
      );
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, withCidrs(undefined), allow), [
        "The API endpoint is public with no publicAccessCidrs, which AWS treats as 0.0.0.0/0; list only your pipeline's egress addresses, e.g. 203.0.113.10/32.",
      ]);
      assert.deepEqual(
        validateResource(eksEndpointPrivate, cluster, withCidrs(["10.0.0.0/8"]), {
          ...allow,
          minPublicCidrPrefix: 8,
        }),
        [],
      );
    });

    it("does not fail on unknown values during preview", () => {
      const props = goodCluster({
        vpcConfig: {
          endpointPrivateAccess: UNKNOWN_VALUE,
          endpointPublicAccess: UNKNOWN_VALUE,
          subnetIds: [],
        },
      });
      assert.deepEqual(validateResource(eksEndpointPrivate, cluster, props), []);
    });
  });

  describe("eks-secrets-encryption", () => {
    it("passes a customer key whose ARN is unknown during preview (created in the same program)", () => {
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, goodCluster()), []);
    });

    it("passes a known customer key ARN", () => {
      const props = goodCluster({
        encryptionConfig: {
          resources: ["secrets"],
          provider: { keyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234" },
        },
      });
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, props), []);
    });

    it("tolerates a key ARN dropped as unknown, but not an empty one", () => {
      const dropped = goodCluster({ encryptionConfig: { resources: ["secrets"], provider: {} } });
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, dropped), []);
      const empty = goodCluster({ encryptionConfig: { resources: ["secrets"], provider: { keyArn: "" } } });
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, empty), [
        "encryptionConfig.provider.keyArn is empty; point it at a customer-managed aws.kms.Key with rotation on.",
      ]);
    });

    it("rejects a cluster without envelope encryption", () => {
      assert.deepEqual(
        validateResource(eksSecretsEncryption, cluster, goodCluster({ encryptionConfig: undefined })),
        [
          'encryptionConfig is not set, so Secrets are stored with only EBS-level encryption; add encryptionConfig { resources: ["secrets"], provider: { keyArn } } with a customer KMS key.',
        ],
      );
    });

    it("rejects an AWS-managed key alias even though the rest is known-good", () => {
      const props = goodCluster({
        encryptionConfig: {
          resources: ["secrets"],
          provider: { keyArn: "arn:aws:kms:eu-west-1:111122223333:alias/aws/eks" },
        },
      });
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, props), [
        "encryptionConfig.provider.keyArn arn:aws:kms:eu-west-1:111122223333:alias/aws/eks is an AWS-managed key, which cannot rotate on your schedule or be audited by key policy; use a customer-managed aws.kms.Key.",
      ]);
    });

    it("rejects an encryption config that leaves Secrets out, even with an unknown key ARN", () => {
      const props = goodCluster({ encryptionConfig: { resources: [], provider: { keyArn: UNKNOWN_VALUE } } });
      assert.deepEqual(validateResource(eksSecretsEncryption, cluster, props), [
        'encryptionConfig.resources does not include "secrets"; set resources: ["secrets"].',
      ]);
    });
  });

  describe("eks-control-plane-logging", () => {
    it("passes all five log types", () => {
      assert.deepEqual(validateResource(eksControlPlaneLogging, cluster, goodCluster()), []);
    });

    it("names the missing log types", () => {
      const props = goodCluster({ enabledClusterLogTypes: ["api", "controllerManager", "scheduler"] });
      assert.deepEqual(validateResource(eksControlPlaneLogging, cluster, props), [
        "Control-plane log types not enabled: audit, authenticator; add them to enabledClusterLogTypes (audit and authenticator are what an incident review needs).",
      ]);
    });

    it("treats no log types as all missing, and honours a narrower required list from config", () => {
      const props = goodCluster({ enabledClusterLogTypes: undefined });
      assert.deepEqual(validateResource(eksControlPlaneLogging, cluster, props), [
        "Control-plane log types not enabled: api, audit, authenticator, controllerManager, scheduler; add them to enabledClusterLogTypes (audit and authenticator are what an incident review needs).",
      ]);
      const partial = goodCluster({ enabledClusterLogTypes: ["audit"] });
      assert.deepEqual(
        validateResource(eksControlPlaneLogging, cluster, partial, { requiredLogTypes: ["audit"] }),
        [],
      );
    });
  });

  describe("eks-access-entries-only and eks-no-creator-admin", () => {
    it("pass API mode with creator admin off", () => {
      assert.deepEqual(validateResource(eksAccessEntriesOnly, cluster, goodCluster()), []);
      assert.deepEqual(validateResource(eksNoCreatorAdmin, cluster, goodCluster()), []);
    });

    it("reject the aws-auth modes and the unset default", () => {
      const mixed = goodCluster({
        accessConfig: {
          authenticationMode: "API_AND_CONFIG_MAP",
          bootstrapClusterCreatorAdminPermissions: false,
        },
      });
      assert.deepEqual(validateResource(eksAccessEntriesOnly, cluster, mixed), [
        'accessConfig.authenticationMode is API_AND_CONFIG_MAP; set it to "API" and grant access with aws.eks.AccessEntry + AccessPolicyAssociation.',
      ]);
      assert.deepEqual(
        validateResource(eksAccessEntriesOnly, cluster, mixed, {
          allowedAuthenticationModes: ["API", "API_AND_CONFIG_MAP"],
        }),
        [],
      );
      assert.deepEqual(
        validateResource(eksAccessEntriesOnly, cluster, goodCluster({ accessConfig: undefined })),
        [
          'accessConfig.authenticationMode is unset (AWS defaults to CONFIG_MAP); set it to "API" and grant access with aws.eks.AccessEntry + AccessPolicyAssociation.',
        ],
      );
    });

    it("reject creator admin on, explicitly or by default", () => {
      assert.deepEqual(
        validateResource(
          eksNoCreatorAdmin,
          cluster,
          goodCluster({ accessConfig: { authenticationMode: "API" } }),
        ),
        [
          "accessConfig.bootstrapClusterCreatorAdminPermissions is unset (AWS defaults to true): whoever runs the first deployment silently becomes cluster admin, and changing it later replaces the cluster; set it to false.",
        ],
      );
      const on = goodCluster({
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      });
      assert.equal(validateResource(eksNoCreatorAdmin, cluster, on).length, 1);
    });
  });

  describe("Kubernetes version (eks-version-supported, eks-version-upgrade-due)", () => {
    const config = {
      newestVersion: "1.36",
      advisoryLag: 1,
      mandatoryLag: 2,
      offeredVersions: ["1.33", "1.34", "1.35", "1.36"],
    };

    it("classifies lag: 0 ok, 1 advisory, 2+ mandatory", () => {
      assert.deepEqual(classifyVersion("1.36", config), { kind: "ok" });
      assert.deepEqual(classifyVersion("1.35", config), {
        kind: "behind",
        version: "1.35",
        lag: 1,
        level: "advisory",
      });
      assert.deepEqual(classifyVersion("1.34", config), {
        kind: "behind",
        version: "1.34",
        lag: 2,
        level: "mandatory",
      });
      assert.deepEqual(classifyVersion(undefined, config), { kind: "unpinned" });
      assert.deepEqual(classifyVersion("latest", config), { kind: "invalid", version: "latest" });
      assert.deepEqual(classifyVersion("1.99", config), { kind: "not-offered", version: "1.99" });
      assert.deepEqual(classifyVersion("1.20", config), { kind: "not-offered", version: "1.20" });
    });

    it("rejects a version EKS does not offer, newer or older, listing the ones it does", () => {
      for (const version of ["1.99", "1.37", "1.29"]) {
        assert.deepEqual(validateResource(eksVersionSupported, cluster, goodCluster({ version })), [
          `Kubernetes ${version} is not a version EKS offers (1.33, 1.34, 1.35, 1.36); EKS refuses to create it: set cluster.kubernetesVersion to one of these (a new EKS release goes into the pack's offeredVersions).`,
        ]);
      }
      assert.deepEqual(
        validateResource(eksVersionSupported, cluster, goodCluster({ version: "1.37" }), {
          newestVersion: "1.37",
          offeredVersions: ["1.35", "1.36", "1.37"],
        }),
        [],
      );
    });

    it("defaults newestVersion to the newest entry of infra/config/kubernetes-versions.ts", () => {
      const [major, minor] = newestKubernetesVersion.split(".").map(Number);
      const twoBehind = `${major}.${minor - 2}`;
      assert.equal(
        validateResource(eksVersionSupported, cluster, goodCluster({ version: newestKubernetesVersion }))
          .length,
        0,
      );
      assert.equal(
        validateResource(eksVersionSupported, cluster, goodCluster({ version: twoBehind })).length,
        1,
      );
    });

    it("one minor behind is advisory only", () => {
      const props = goodCluster({ version: "1.35" });
      assert.deepEqual(validateResource(eksVersionSupported, cluster, props, config), []);
      assert.deepEqual(validateResource(eksVersionUpgradeDue, cluster, props, config), [
        "Kubernetes 1.35 is one minor behind the newest (1.36); plan the upgrade.",
      ]);
    });

    it("two minors behind is mandatory (and not also advisory)", () => {
      const props = goodCluster({ version: "1.34" });
      assert.deepEqual(validateResource(eksVersionSupported, cluster, props, config), [
        "Kubernetes 1.34 is 2 minor versions behind the newest (1.36); it is at or near the end of standard support (extended support costs 6x): upgrade one minor at a time.",
      ]);
      assert.deepEqual(validateResource(eksVersionUpgradeDue, cluster, props, config), []);
    });

    it("thresholds and newest version come from pack config", () => {
      const props = goodCluster({ version: "1.36" });
      assert.equal(
        validateResource(eksVersionSupported, cluster, props, {
          newestVersion: "1.38",
          offeredVersions: ["1.36", "1.37", "1.38"],
        }).length,
        1,
      );
      assert.deepEqual(
        validateResource(eksVersionSupported, cluster, goodCluster({ version: "1.34" }), {
          ...config,
          mandatoryLag: 3,
        }),
        [],
      );
    });

    it("asks to pin an unset version, and ignores an unknown one", () => {
      assert.deepEqual(
        validateResource(eksVersionUpgradeDue, cluster, goodCluster({ version: undefined }), config),
        ["version is unset, so EKS picks its default and a replacement may land on another minor; pin it."],
      );
      assert.deepEqual(
        validateResource(eksVersionSupported, cluster, goodCluster({ version: UNKNOWN_VALUE }), config),
        [],
      );
    });
  });

  describe("eks-standard-support", () => {
    it("passes STANDARD and advises against EXTENDED or the unset default", () => {
      assert.deepEqual(validateResource(eksStandardSupport, cluster, goodCluster()), []);
      assert.deepEqual(
        validateResource(eksStandardSupport, cluster, goodCluster({ upgradePolicy: undefined })),
        [
          'upgradePolicy.supportType is unset (AWS defaults to EXTENDED): past standard support the control plane costs $0.60 instead of $0.10 per hour; set it to "STANDARD".',
        ],
      );
      assert.equal(eksStandardSupport.enforcementLevel, "advisory");
    });
  });

  describe("eks-auto-mode-consistent", () => {
    it("passes full Auto Mode and a cluster with Auto Mode off", () => {
      assert.deepEqual(validateResource(eksAutoModeConsistent, cluster, goodCluster()), []);
      const off = goodCluster({
        computeConfig: undefined,
        storageConfig: undefined,
        kubernetesNetworkConfig: undefined,
      });
      assert.deepEqual(validateResource(eksAutoModeConsistent, cluster, off), []);
    });

    it("rejects half-enabled Auto Mode", () => {
      const props = goodCluster({ storageConfig: { blockStorage: { enabled: false } } });
      assert.deepEqual(validateResource(eksAutoModeConsistent, cluster, props), [
        "Auto Mode is half on: computeConfig.enabled, kubernetesNetworkConfig.elasticLoadBalancing.enabled true but storageConfig.blockStorage.enabled not; EKS rejects this, set all three to true (Auto Mode) or all to false.",
      ]);
    });

    it("rejects Auto Mode with self-managed add-ons bootstrapped", () => {
      assert.deepEqual(
        validateResource(
          eksAutoModeConsistent,
          cluster,
          goodCluster({ bootstrapSelfManagedAddons: undefined }),
        ),
        [
          "Auto Mode is on but bootstrapSelfManagedAddons is unset (defaults to true): the unmanaged VPC CNI, kube-proxy and CoreDNS would be installed next to Auto Mode's own; set it to false (this replaces the cluster, so do it at creation).",
        ],
      );
    });
  });

  describe("eks-auto-mode-no-redundant-addons", () => {
    const addon = (name: string) => ({
      type: "aws:eks/addon:Addon",
      name,
      props: { clusterName: "platform-prod", addonName: name },
    });

    it("advises removing add-ons Auto Mode already runs", () => {
      const violations = validateStack(eksAutoModeNoRedundantAddons, [
        { type: cluster, name: "cluster", props: goodCluster() },
        addon("coredns"),
        addon("amazon-cloudwatch-observability"),
      ]);
      assert.deepEqual(violations, [
        {
          message:
            "The coredns add-on duplicates what Auto Mode provides (cluster DNS); its pods only run on non-Auto nodes and confuse upgrades: remove it.",
          urn: "urn:pulumi:test::eks-gitops-platform::aws:eks/addon:Addon::coredns",
        },
      ]);
    });

    it("leaves add-ons alone on a cluster without Auto Mode", () => {
      const karpenterMode = goodCluster({
        computeConfig: undefined,
        storageConfig: undefined,
        kubernetesNetworkConfig: undefined,
      });
      assert.deepEqual(
        validateStack(eksAutoModeNoRedundantAddons, [
          { type: cluster, name: "cluster", props: karpenterMode },
          addon("coredns"),
          addon("eks-pod-identity-agent"),
        ]),
        [],
      );
    });
  });
});
