import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadBalancerControllerPolicy } from "../../infra/addons/load-balancer-controller";
import { renderHelmRelease } from "../../infra/gitops/addon-files";
import type { SynthResult } from "../../synth";
import {
  addonsDir,
  applicationSets,
  kustomizeBuild,
  loadValidators,
  parseDocuments,
  Tree,
  validateObject,
  Validators,
} from "../addons/support";
import { ofType, single, synthesizedStack } from "../support/stacks";
import { clusterSecretOf, configOf, generate, paramsOf } from "./generate";

/**
 * The ApplicationSets in addons/ rendered against the cluster Secret that each sample stack really writes: every
 * template must render with missingkey=error, produce a valid Application, and point at files that exist.
 */

const expectedApplications: Record<string, string[]> = {
  dev: ["argo-cd", "cluster-base", "falco", "karpenter-nodepools", "kubecost", "metrics-server"],
  prod: [
    "argo-cd",
    "cluster-base",
    "external-dns",
    "external-secrets",
    "external-secrets-stores",
    "falco",
    "karpenter-nodepools",
    "kubecost",
    "metrics-server",
  ],
  staging: [
    "argo-cd",
    "aws-load-balancer-controller",
    "cilium",
    "cluster-base",
    "coredns-autoscaler",
    "external-dns",
    "external-secrets",
    "external-secrets-stores",
    "falco",
    "karpenter",
    "karpenter-nodepools",
    "kubecost",
    "metrics-server",
  ],
};

describe("addons/ rendered against each synthesized stack's cluster Secret", () => {
  let validators: Validators;
  before(async () => {
    validators = await loadValidators();
  });

  for (const stack of ["dev", "prod", "staging"]) {
    describe(stack, () => {
      let result: SynthResult;
      let applications: Map<string, Tree>;
      before(async () => {
        result = await synthesizedStack(stack);
        applications = generate(result);
      });

      it("generates exactly the add-ons this stack enables (labels select them)", () => {
        assert.deepEqual([...applications.keys()].sort(), expectedApplications[stack]);
      });

      it("renders every generated Application (missingkey=error) into a valid Application", () => {
        for (const [name, application] of applications) {
          try {
            validateObject(validators, application as never);
          } catch (error) {
            assert.fail(`${stack}: ${name}: ${(error as Error).message}`);
          }
          const text = JSON.stringify(application);
          assert.ok(!text.includes("{{"), `${stack}: ${name} still holds a template action`);
          const metadata = application.metadata as Tree;
          assert.match(String(metadata.name), /^[a-z0-9-]+$/, `${name}: the Application name is a DNS label`);
        }
      });

      it("points every git source and value file at something that exists in addons/", () => {
        const basepath = paramsOf(result).metadata.annotations.addons_repo_basepath;
        for (const [name, application] of applications) {
          const spec = application.spec as Tree;
          const sources = (spec.sources as Tree[] | undefined) ?? [spec.source as Tree];
          for (const source of sources) {
            if (typeof source.path === "string") {
              const local = path.join(addonsDir, source.path.slice(basepath.length + 1));
              assert.ok(source.path.startsWith(`${basepath}/`), `${name}: path under ${basepath}/`);
              assert.ok(fs.existsSync(local), `${stack}: ${name}: ${source.path} exists`);
            }
            const helm = source.helm as Tree | undefined;
            if (helm) {
              const files = helm.valueFiles as string[];
              // defaults and the environment file must exist; the per-cluster file is optional.
              for (const file of files.slice(0, -1)) {
                const local = path.join(addonsDir, file.slice(`$values/${basepath}/`.length));
                assert.ok(fs.existsSync(local), `${stack}: ${name}: ${file} exists`);
              }
            }
          }
          assert.equal((spec.destination as Tree).server, paramsOf(result).server);
        }
      });

      it("builds the node pools for this cluster into valid NodePools and NodeClass with its role, subnets and SG", () => {
        const application = applications.get("karpenter-nodepools") as Tree;
        const source = (application.spec as Tree).source as Tree;
        const params = paramsOf(result);
        const local = path.join(
          addonsDir,
          String(source.path).slice(params.metadata.annotations.addons_repo_basepath.length + 1),
        );
        const objects = kustomizeBuild(local, (source.kustomize as Tree).patches as Tree[]);
        for (const object of objects) validateObject(validators, object as never);
        const nodeClass = objects.find((object) => /NodeClass$/.test(String(object.kind))) as Tree;
        const spec = nodeClass.spec as Tree;
        const facts = params.metadata.annotations;
        assert.equal(spec.role, facts.karpenter_node_role_name);
        assert.ok(
          !JSON.stringify(objects).includes("replaced-by-applicationset"),
          "every placeholder is patched",
        );
        const subnetIds = ofType(result, "aws:ec2/subnet:Subnet")
          .filter(
            (subnet) =>
              (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/internal-elb"] === "1",
          )
          .map((subnet) => subnet.name);
        assert.equal(
          (spec.subnetSelectorTerms as Tree[]).length,
          subnetIds.length,
          "one term per private subnet",
        );
        assert.deepEqual(spec.securityGroupSelectorTerms, [{ id: facts.cluster_security_group_id }]);
        const role = ofType(result, "aws:iam/role:Role").find(
          (candidate) => candidate.inputs.name === spec.role,
        );
        assert.ok(role, `the NodeClass role ${String(spec.role)} is created by Pulumi`);
        for (const pool of objects.filter((object) => object.kind === "NodePool")) {
          const taints = (((pool.spec as Tree).template as Tree).spec as Tree).startupTaints as Tree[];
          // Cilium nodes must stay unschedulable until the agent is ready; elsewhere no startup taint.
          assert.deepEqual(
            taints.map((taint) => taint.key),
            stack === "staging" ? ["node.cilium.io/agent-not-ready"] : [],
          );
        }
      });

      it("builds the ClusterSecretStore with the region and name prefix from the cluster Secret, valid against the vendored CRD fields", function () {
        const application = applications.get("external-secrets-stores");
        if (!application) return this.skip();
        const source = (application.spec as Tree).source as Tree;
        const facts = paramsOf(result).metadata.annotations;
        const local = path.join(addonsDir, String(source.path).slice(facts.addons_repo_basepath.length + 1));
        const objects = kustomizeBuild(local, (source.kustomize as Tree).patches as Tree[]);
        assert.deepEqual(
          objects.map((object) => object.kind),
          ["ClusterSecretStore"],
        );
        for (const object of objects) validateObject(validators, object as never);
        const aws = (((objects[0].spec as Tree).provider as Tree).aws ?? {}) as Tree;
        assert.equal(aws.service, "SecretsManager");
        assert.equal(aws.region, configOf(result).region);
        assert.equal(aws.prefix, facts.external_secrets_name_prefix);
        assert.equal(aws.auth, undefined, "the operator's own Pod Identity credentials");
        // The role can read exactly the names the store can ask for.
        const association = ofType(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find(
          (candidate) => candidate.inputs.serviceAccount === "external-secrets",
        );
        assert.equal(association?.inputs.namespace, "external-secrets");
        const policy = ofType(result, "aws:iam/rolePolicy:RolePolicy")
          .map((candidate) => String(candidate.inputs.policy))
          .find((document) => document.includes("secretsmanager:GetSecretValue"));
        assert.ok(policy?.includes(`:secret:${String(aws.prefix)}*"`), policy);
      });

      it("passes the cluster's zones, owner id and policy to ExternalDNS, and the VPC and region to the LB controller", async () => {
        const params = paramsOf(result);
        const facts = params.metadata.annotations;
        const config = configOf(result);
        if (applications.has("external-dns")) {
          const values = renderHelmRelease(addonsDir, "external-dns", "external-dns", params).values;
          assert.deepEqual(
            (values.extraArgs as Tree)["zone-id-filter"],
            config.addons.externalDns.hostedZoneIds,
          );
          assert.equal(values.txtOwnerId, config.cluster.name, "one TXT owner per cluster");
          assert.equal(values.policy, "upsert-only");
          assert.equal((values.provider as Tree).name, "aws");
          const policy = ofType(result, "aws:iam/rolePolicy:RolePolicy")
            .map((candidate) => String(candidate.inputs.policy))
            .find((document) => document.includes("route53:ChangeResourceRecordSets")) as string;
          const zones = config.addons.externalDns.hostedZoneIds.map(
            (id) => `arn:aws:route53:::hostedzone/${id}`,
          );
          assert.deepEqual(
            (JSON.parse(policy) as { Statement: { Action: string[]; Resource: string[] }[] }).Statement.find(
              (statement) => statement.Action.includes("route53:ChangeResourceRecordSets"),
            )?.Resource,
            zones,
          );
        } else {
          assert.equal(facts.external_dns_zone_ids, undefined);
        }
        if (applications.has("aws-load-balancer-controller")) {
          const values = renderHelmRelease(
            addonsDir,
            "aws-load-balancer-controller",
            "aws-load-balancer-controller",
            params,
          ).values;
          assert.equal(values.vpcId, facts.aws_vpc_id);
          assert.match(String(values.vpcId), /^vpc-/);
          assert.equal(values.region, config.region);
          assert.equal(values.clusterName, config.cluster.name);
          // Subnet discovery: the controller picks subnets by these role tags (no subnet ids in values). Public
          // subnets are the foundation's (shared by its clusters), private ones the cluster's own.
          const subnets = ofType(result, "aws:ec2/subnet:Subnet").map(
            (subnet) => subnet.inputs.tags as Record<string, string>,
          );
          const publicSubnets = ofType(
            await synthesizedStack("foundation-eu-west-1"),
            "aws:ec2/subnet:Subnet",
          ).filter(
            (subnet) => (subnet.inputs.tags as Record<string, string>)["kubernetes.io/role/elb"] === "1",
          );
          assert.equal(publicSubnets.length, 3, "public: internet-facing");
          assert.equal(
            subnets.filter((tags) => tags["kubernetes.io/role/internal-elb"] === "1").length,
            3,
            "private: internal",
          );
          const association = ofType(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find(
            (candidate) => candidate.inputs.serviceAccount === "aws-load-balancer-controller",
          );
          assert.equal(association?.inputs.namespace, "kube-system");
          assert.ok(
            ofType(result, "aws:iam/rolePolicy:RolePolicy").some(
              (candidate) => String(candidate.inputs.policy) === loadBalancerControllerPolicy("aws"),
            ),
            "the controller role carries upstream's policy",
          );
        } else {
          assert.equal(facts.aws_load_balancer_controller_role_arn, undefined);
        }
      });

      it("creates the Argo CD bootstrap, the cluster Secret and the root Application through the cluster's provider", () => {
        const [provider] = ofType(result, "pulumi:providers:kubernetes");
        assert.ok(provider, "a Kubernetes provider");
        const release = ofType(result, "kubernetes:helm.sh/v3:Release").find(
          (candidate) => candidate.inputs.chart === "argo-cd",
        );
        assert.ok(release, "the argo-cd Helm release");
        const argoSet = applicationSets().find(({ name }) => name === "argo-cd")?.set as Tree;
        const chartSource = ((((argoSet.spec as Tree).template as Tree).spec as Tree).sources as Tree[])[0];
        assert.equal(
          release.inputs.version,
          chartSource.targetRevision,
          "bootstrap = the version Argo CD manages later",
        );
        assert.equal((release.inputs.repositoryOpts as Tree).repo, chartSource.repoURL);
        const values = release.inputs.values as Tree;
        assert.equal(
          (values["redis-ha"] as Tree).enabled as boolean,
          stack === "prod",
          "Redis HA only in prod",
        );
        assert.equal((values.applicationSet as Tree).replicas as number, stack === "prod" ? 2 : 1);

        const root = single(result, "kubernetes:argoproj.io/v1alpha1:Application");
        const spec = root.inputs.spec as Tree;
        const source = spec.source as Tree;
        assert.equal(source.repoURL, configOf(result).gitops.repoUrl);
        assert.equal(source.targetRevision, configOf(result).gitops.revision);
        assert.equal(source.path, configOf(result).gitops.path);
        assert.deepEqual((root.inputs.metadata as Tree).finalizers, [
          "resources-finalizer.argocd.argoproj.io",
        ]);
        assert.ok(root.dependencies.includes(release.urn), "root Application after Argo CD");
        const secret = single(result, "kubernetes:core/v1:Secret");
        assert.ok(root.dependencies.includes(secret.urn), "root Application after the cluster Secret");
        // Component dependencies expand to the component's resources: the add-ons' IAM roles outlive the root app.
        const addonRoles = ofType(result, "aws:iam/role:Role").filter((role) =>
          role.parent.includes("AddonsAws"),
        );
        assert.ok(addonRoles.length > 0);
        for (const role of addonRoles) {
          assert.ok(
            root.dependencies.includes(role.urn),
            `destroy removes the root Application before ${role.name}`,
          );
        }
        for (const resource of [release, root, secret])
          assert.ok(resource.provider.startsWith(`${provider.urn}::`));
      });

      it("writes the gitops-bridge labels and annotations from config and infrastructure", () => {
        const secret = clusterSecretOf(result);
        const cluster = single(result, "aws:eks/cluster:Cluster");
        assert.equal(secret.labels["argocd.argoproj.io/secret-type"], "cluster");
        assert.equal(secret.labels.environment, configOf(result).environment);
        assert.equal(secret.labels.compute_mode, configOf(result).compute.mode);
        assert.equal(secret.labels.enable_falco, String(configOf(result).addons.falco));
        assert.equal(secret.annotations.aws_cluster_name, configOf(result).cluster.name);
        assert.equal(secret.annotations.aws_region, configOf(result).region);
        assert.equal(secret.annotations.addons_repo_url, configOf(result).gitops.repoUrl);
        assert.equal(secret.annotations.aws_cluster_name, cluster.inputs.name);
        assert.equal(
          secret.annotations.aws_cluster_arn,
          `arn:aws:eks:${configOf(result).region}:111122223333:cluster/${String(cluster.inputs.name)}`,
        );
      });

      it("never exposes the Argo CD admin password", () => {
        const text =
          JSON.stringify(result.outputs) +
          JSON.stringify(result.resources.map((resource) => resource.inputs));
        assert.ok(!/argocdServerAdminPassword|admin\.password/i.test(text));
        assert.ok(!Object.keys(result.outputs).some((key) => /argo.*(password|secret)/i.test(key)));
      });
    });
  }

  describe("mode rules", () => {
    it("staging (karpenter mode): Karpenter's AWS side, Cilium bootstrap, no kube-proxy or VPC CNI add-on", async () => {
      const result = await synthesizedStack("staging");
      const addons = ofType(result, "aws:eks/addon:Addon").map((addon) => addon.inputs.addonName);
      assert.ok(
        !addons.includes("kube-proxy") && !addons.includes("vpc-cni"),
        `add-ons: ${addons.join(", ")}`,
      );
      assert.ok(addons.includes("coredns"), "CoreDNS is added (after Cilium)");
      const coredns = ofType(result, "aws:eks/addon:Addon").find(
        (addon) => addon.inputs.addonName === "coredns",
      );
      const cilium = ofType(result, "kubernetes:helm.sh/v3:Release").find(
        (release) => release.inputs.chart === "cilium",
      );
      assert.ok(cilium && coredns);
      assert.ok(coredns.dependencies.includes(cilium.urn), "CoreDNS waits for Cilium");
      // EKS add-ons with pods (EBS CSI) only become ready once Cilium runs: waiting for them would deadlock.
      for (const addon of ofType(result, "aws:eks/addon:Addon")) {
        assert.ok(
          !cilium.dependencies.includes(addon.urn),
          `Cilium does not wait for ${String(addon.inputs.addonName)}`,
        );
      }
      const nodeGroup = single(result, "aws:eks/nodeGroup:NodeGroup");
      assert.ok(!cilium.dependencies.includes(nodeGroup.urn), "Cilium installs while the system nodes join");
      for (const association of ofType(
        result,
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
      ).filter((candidate) => candidate.parent.includes("ClusterAccess"))) {
        assert.ok(
          cilium.dependencies.includes(association.urn),
          "Cilium after the deploy role can reach the API",
        );
      }
      const ciliumValues = cilium.inputs.values as Tree;
      assert.equal(ciliumValues.kubeProxyReplacement, "true");
      assert.equal(ciliumValues.k8sServicePort, 443);
      assert.equal(ciliumValues.k8sServiceHost, clusterSecretOf(result).annotations.cluster_endpoint_host);
      assert.ok(!String(ciliumValues.k8sServiceHost).includes("https://"));
      assert.deepEqual(ciliumValues.eni, {
        enabled: true,
        awsEnablePrefixDelegation: true,
        subnetTagsFilter: [`kubernetes.io/cluster/${configOf(result).cluster.name}=owned`],
      });
      assert.equal((ciliumValues.ipam as Tree).mode, "eni");

      const associations = ofType(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
      const karpenter = associations.find((association) => association.inputs.serviceAccount === "karpenter");
      assert.ok(karpenter, "Pod Identity association for Karpenter");
      assert.equal(karpenter.inputs.namespace, "kube-system");
      assert.ok(associations.some((association) => association.inputs.serviceAccount === "cilium-operator"));
      const queue = single(result, "aws:sqs/queue:Queue");
      assert.equal(clusterSecretOf(result).annotations.karpenter_interruption_queue, queue.inputs.name);
      assert.equal(ofType(result, "aws:cloudwatch/eventRule:EventRule").length, 5);
      assert.equal(ofType(result, "aws:cloudwatch/eventTarget:EventTarget").length, 5);
      const entry = ofType(result, "aws:eks/accessEntry:AccessEntry").find(
        (candidate) => candidate.inputs.type === "EC2_LINUX",
      );
      assert.ok(entry, "EC2_LINUX access entry for Karpenter's nodes");
    });

    for (const stack of ["dev", "prod"]) {
      it(`${stack} (auto mode): no Karpenter chart, queue or controller role; an EC2 access entry for the NodeClass role`, async () => {
        const result = await synthesizedStack(stack);
        const charts = ofType(result, "kubernetes:helm.sh/v3:Release").map((release) => release.inputs.chart);
        assert.deepEqual(charts, ["argo-cd"]);
        assert.equal(ofType(result, "aws:sqs/queue:Queue").length, 0);
        const associations = ofType(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
        assert.deepEqual(
          associations.map((association) => association.inputs.serviceAccount).sort(),
          stack === "prod" ? ["external-dns", "external-secrets"] : [],
          "no Karpenter controller or LB controller role in Auto Mode",
        );
        assert.equal(clusterSecretOf(result).annotations.karpenter_interruption_queue, undefined);
        const entry = ofType(result, "aws:eks/accessEntry:AccessEntry").find(
          (candidate) => candidate.inputs.type === "EC2",
        );
        assert.ok(entry, "EC2 access entry");
        const association = ofType(result, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").find(
          (candidate) => String(candidate.inputs.policyArn).endsWith("/AmazonEKSAutoNodePolicy"),
        );
        assert.ok(association, "AmazonEKSAutoNodePolicy association");
        assert.ok(association.dependencies.includes(entry.urn));
      });
    }
  });

  it("holds no values for an add-on in an environment whose stack never runs it (dead config)", async () => {
    const running = new Set<string>();
    for (const stack of ["dev", "prod", "staging"]) {
      const result = await synthesizedStack(stack);
      const environment = configOf(result).environment;
      for (const application of generate(result).values()) {
        const file = ((application.spec as Tree).sources as Tree[] | undefined)
          ?.flatMap((source) => ((source.helm as Tree | undefined)?.valueFiles as string[] | undefined) ?? [])
          .find((valueFile) => valueFile.includes(`/values/environments/${environment}.yaml`));
        if (file) running.add(file.replace(/^\$values\/[^/]+\//, ""));
      }
    }
    const dead = applicationSets()
      .flatMap(({ folder }) => {
        const dir = path.join(addonsDir, folder, "values", "environments");
        return fs.existsSync(dir)
          ? fs.readdirSync(dir).map((file) => `${folder}/values/environments/${file}`)
          : [];
      })
      .filter((file, index, all) => all.indexOf(file) === index)
      .filter((file) => !running.has(file))
      .filter((file) => {
        const [values] = parseDocuments(path.join(addonsDir, file));
        return Object.keys((values as Tree | undefined) ?? {}).length > 0;
      });
    assert.deepEqual(dead, []);
  });
});
