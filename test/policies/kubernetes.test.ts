import { strict as assert } from "assert";
import {
  argocdServerPrivate,
  k8sNoPlaintextSecret,
  k8sStorageClassEncrypted,
} from "../../policies/kubernetes";
import { ec2Imdsv2Required, eksNodeNoSsh } from "../../policies/nodes";
import { upstreamFact } from "../upstream";
import { UNKNOWN_VALUE, validateResource } from "./support";

const secret = "kubernetes:core/v1:Secret";
const configMap = "kubernetes:core/v1:ConfigMap";
const storageClass = "kubernetes:storage.k8s.io/v1:StorageClass";
const release = "kubernetes:helm.sh/v3:Release";
const service = "kubernetes:core/v1:Service";

describe("policies: Kubernetes objects and nodes", () => {
  describe("k8s-no-plaintext-secret", () => {
    it("rejects credentials by key name, by format, and inside JSON values (an Argo CD cluster Secret's bearerToken)", () => {
      assert.deepEqual(
        validateResource(k8sNoPlaintextSecret, secret, {
          metadata: { name: "db", namespace: "app" },
          stringData: { username: "app", password: "hunter2" },
        }),
        [
          "Secret app/db (subject) holds credentials written in the program at stringData.password: they sit in the source or stack config and in the state file; keep them in AWS Secrets Manager and sync them with External Secrets (or mount them with the Secrets Store CSI driver).",
        ],
      );
      assert.match(
        validateResource(k8sNoPlaintextSecret, configMap, {
          metadata: { name: "settings" },
          data: { id_rsa: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc" },
        })[0],
        /^ConfigMap default\/settings \(subject\) holds credentials .* at data\.id_rsa: .* in the state file in plain text/,
      );
      assert.match(
        validateResource(k8sNoPlaintextSecret, secret, {
          metadata: { name: "cluster" },
          stringData: {
            config: JSON.stringify({ bearerToken: "eyJhbGci", tlsClientConfig: { insecure: false } }),
          },
        })[0],
        /at stringData\.config\.bearerToken:/,
      );
    });

    it("passes an Argo CD cluster Secret with awsAuthConfig, empty values and unknown data", () => {
      assert.deepEqual(
        validateResource(k8sNoPlaintextSecret, secret, {
          metadata: { name: "platform", labels: { "argocd.argoproj.io/secret-type": "cluster" } },
          stringData: {
            name: "platform",
            server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            config: JSON.stringify({
              awsAuthConfig: { clusterName: "platform", roleARN: "arn:aws:iam::1:role/x" },
              tlsClientConfig: { caData: "LS0t" },
            }),
          },
        }),
        [],
      );
      assert.deepEqual(validateResource(k8sNoPlaintextSecret, secret, { stringData: { password: "" } }), []);
      assert.deepEqual(validateResource(k8sNoPlaintextSecret, secret, { stringData: UNKNOWN_VALUE }), []);
    });
  });

  describe("k8s-storageclass-encrypted", () => {
    it('rejects an EBS class without encrypted: "true", passes an encrypted one and other provisioners', () => {
      assert.deepEqual(
        validateResource(k8sStorageClassEncrypted, storageClass, {
          metadata: { name: "gp3" },
          provisioner: "ebs.csi.eks.amazonaws.com",
          parameters: { type: "gp3" },
        }),
        [
          'StorageClass gp3 (ebs.csi.eks.amazonaws.com) has parameters.encrypted unset (volumes follow the account\'s EBS default, unencrypted unless someone turned it on); set parameters.encrypted: "true" (and kmsKeyId to the platform key).',
        ],
      );
      assert.equal(
        validateResource(k8sStorageClassEncrypted, storageClass, {
          provisioner: "ebs.csi.aws.com",
          parameters: { encrypted: "false" },
        }).length,
        1,
      );
      assert.deepEqual(
        validateResource(k8sStorageClassEncrypted, storageClass, {
          provisioner: "ebs.csi.eks.amazonaws.com",
          parameters: { encrypted: "true" },
        }),
        [],
      );
      assert.deepEqual(
        validateResource(k8sStorageClassEncrypted, storageClass, { provisioner: "efs.csi.aws.com" }),
        [],
      );
    });
  });

  describe("argocd-server-private", () => {
    const argo = (values: Record<string, unknown>) => ({ chart: "argo-cd", version: "10.1.1", values });

    it("rejects a public LoadBalancer and TLS off (params or --insecure), in the release or as a Service", () => {
      assert.deepEqual(
        validateResource(
          argocdServerPrivate,
          release,
          argo({ server: { service: { type: "LoadBalancer" } } }),
        ),
        [
          "Argo CD release subject sets server.service.type LoadBalancer without the internal scheme annotation, exposing Argo CD's API (which holds every managed cluster's credentials) to the internet; keep ClusterIP and use kubectl port-forward, or annotate server.service.annotations service.beta.kubernetes.io/aws-load-balancer-scheme: internal.",
        ],
      );
      assert.match(
        validateResource(
          argocdServerPrivate,
          release,
          argo({ configs: { params: { "server.insecure": true } } }),
        )[0],
        /turns TLS off on the API server \(configs\.params\."server\.insecure": true\)/,
      );
      assert.match(
        validateResource(argocdServerPrivate, release, argo({ server: { extraArgs: ["--insecure"] } }))[0],
        /\(server\.extraArgs --insecure\)/,
      );
      assert.equal(
        validateResource(argocdServerPrivate, service, {
          metadata: { name: "argocd-server" },
          spec: { type: "LoadBalancer" },
        }).length,
        1,
      );
    });

    it("passes ClusterIP, an internal load balancer, TLS on, and other charts", () => {
      assert.deepEqual(
        validateResource(
          argocdServerPrivate,
          release,
          argo({ configs: { params: { "server.insecure": false } } }),
        ),
        [],
      );
      assert.deepEqual(
        validateResource(
          argocdServerPrivate,
          release,
          argo({
            server: {
              service: {
                type: "LoadBalancer",
                annotations: { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" },
              },
            },
          }),
        ),
        [],
      );
      assert.deepEqual(
        validateResource(argocdServerPrivate, release, {
          chart: "ingress-nginx",
          values: { server: { service: { type: "LoadBalancer" } } },
        }),
        [],
      );
    });

    it("reads value keys the pinned argo-cd chart has (vendored values keys)", () => {
      const keys = upstreamFact<{ keys: Record<string, string>; open: Record<string, string> }>(
        "argo-cd-10.1.1.values-keys.json",
      ).facts;
      assert.equal(keys.keys["server.service.type"], "scalar");
      assert.equal(keys.keys["server.service.annotations"], "open");
      assert.equal(keys.keys["server.extraArgs"], "list");
      assert.ok(
        "configs.params" in keys.open,
        "configs.params holds argocd-cmd-params-cm keys such as server.insecure",
      );
    });
  });

  describe("eks-node-no-ssh and ec2-imdsv2-required", () => {
    it("rejects node group remote access and a launch template key pair", () => {
      assert.deepEqual(
        validateResource(eksNodeNoSsh, "aws:eks/nodeGroup:NodeGroup", { remoteAccess: { ec2SshKey: "ops" } }),
        [
          "Node group subject sets remoteAccess (ec2SshKey ops, no sourceSecurityGroupIds: port 22 open to 0.0.0.0/0), so every node accepts SSH with a shared key; remove remoteAccess and reach nodes with SSM Session Manager.",
        ],
      );
      assert.deepEqual(
        validateResource(eksNodeNoSsh, "aws:ec2/launchTemplate:LaunchTemplate", { keyName: "ops" }),
        [
          "Launch template subject sets keyName ops, so nodes launched from it accept SSH with that key; remove keyName and reach nodes with SSM Session Manager.",
        ],
      );
      assert.deepEqual(
        validateResource(eksNodeNoSsh, "aws:eks/nodeGroup:NodeGroup", { scalingConfig: { minSize: 1 } }),
        [],
      );
    });

    it("rejects IMDSv1 (httpTokens optional or unset) and passes required or a disabled endpoint", () => {
      const template = "aws:ec2/launchTemplate:LaunchTemplate";
      assert.deepEqual(validateResource(ec2Imdsv2Required, template, {}), [
        'Launch template subject has metadataOptions.httpTokens unset (defaults to "optional"), so IMDSv1 is on and any pod that can be tricked into a request (SSRF) reads the node role\'s credentials; set metadataOptions.httpTokens: "required".',
      ]);
      assert.equal(
        validateResource(ec2Imdsv2Required, "aws:ec2/instance:Instance", {
          metadataOptions: { httpTokens: "optional" },
        }).length,
        1,
      );
      assert.deepEqual(
        validateResource(ec2Imdsv2Required, template, {
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
        }),
        [],
      );
      assert.deepEqual(
        validateResource(ec2Imdsv2Required, template, { metadataOptions: { httpEndpoint: "disabled" } }),
        [],
      );
    });
  });
});
