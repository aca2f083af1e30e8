import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { argocdNamespace, rootApplicationInclude } from "../../infra/gitops";
import {
  addonFolders,
  addonsDir,
  applicationSets,
  isKubernetesObject,
  kustomizeBuild,
  listFiles,
  loadValidators,
  parseDocuments,
  relative,
  Tree,
  unknownFieldProblems,
  validateObject,
  Validators,
  yamlFiles,
} from "./support";
import { requireTool } from "../support/tools";

function templateSpec(set: Tree): Tree {
  return ((set.spec as Tree).template as Tree).spec as Tree;
}

function chartSources(set: Tree): Tree[] {
  const spec = templateSpec(set);
  return ((spec.sources as Tree[] | undefined) ?? [spec.source as Tree]).filter(
    (source) => "chart" in source,
  );
}

function wave(object: Tree): number {
  const annotations = ((object.metadata as Tree).annotations ?? {}) as Record<string, string>;
  const value = annotations["argocd.argoproj.io/sync-wave"];
  assert.equal(
    typeof value,
    "string",
    `${String((object.metadata as Tree).name)} has no sync-wave annotation`,
  );
  return Number(value);
}

describe("addons/: manifests", () => {
  let validators: Validators;
  before(async () => {
    validators = await loadValidators();
  });

  it("every YAML file parses strictly (no duplicate keys, no syntax errors)", () => {
    const files = yamlFiles();
    assert.ok(files.length > 30, `expected the add-on tree, found ${files.length} YAML files`);
    for (const file of files) parseDocuments(file);
  });

  it("every Kubernetes object in git validates against its schema", () => {
    let checked = 0;
    for (const file of yamlFiles().filter((name) => !name.includes(`${path.sep}values${path.sep}`))) {
      for (const document of parseDocuments(file)) {
        if (path.basename(file) === "kustomization.yaml") continue;
        assert.ok(
          isKubernetesObject(document),
          `${relative(file)} holds something that is not a Kubernetes object`,
        );
        try {
          validateObject(validators, document);
        } catch (error) {
          assert.fail(`${relative(file)} (${document.kind}): ${(error as Error).message}`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 15, `only ${checked} objects checked`);
  });

  it("no Kubernetes object in git has a field its schema does not know (typos)", () => {
    const objects = yamlFiles()
      .filter(
        (file) =>
          !file.includes(`${path.sep}values${path.sep}`) && path.basename(file) !== "kustomization.yaml",
      )
      .flatMap((file) =>
        parseDocuments(file).map((object) => ({ label: relative(file), object: object as Tree })),
      );
    assert.deepEqual(unknownFieldProblems(objects), []);
  });

  it("the unknown-field check reports a misspelt key", () => {
    const nodePool = parseDocuments(
      path.join(addonsDir, "karpenter/nodepools/auto/base/nodepool-general.yaml"),
    )[0] as Tree;
    const typo = structuredClone(nodePool);
    (typo.spec as Tree).disruptions = (typo.spec as Tree).disruption;
    const problems = unknownFieldProblems([{ label: "typo", object: typo }]);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], /^typo: .*disruptions.* does not exist in type 'INodePoolSpec'/);
  });

  it("the validators reject broken objects (so the check above means something)", () => {
    const nodePool = parseDocuments(
      path.join(addonsDir, "karpenter/nodepools/auto/base/nodepool-general.yaml"),
    )[0] as Tree;
    const broken = structuredClone(nodePool);
    delete (((broken.spec as Tree).template as Tree).spec as Tree).nodeClassRef;
    assert.throws(() => validateObject(validators, broken as never), /nodeClassRef/);

    const nodeClass = parseDocuments(
      path.join(addonsDir, "karpenter/nodepools/auto/base/nodeclass.yaml"),
    )[0] as Tree;
    const typo = structuredClone(nodeClass);
    (typo.spec as Tree).snatPolicy = "random";
    assert.throws(() => validateObject(validators, typo as never), /snatPolicy|allowed values/);
    const unknownField = structuredClone(nodeClass);
    (unknownField.spec as Tree).amiSelectorTerms = [{ alias: "bottlerocket@latest" }];
    assert.throws(() => validateObject(validators, unknownField as never), /additional properties/);

    const appSet = applicationSets()[0].set;
    const noGenerators = structuredClone(appSet);
    delete (noGenerators.spec as Tree).generators;
    assert.throws(() => validateObject(validators, noGenerators as never), /generators/);
  });

  it("every node-pool folder builds (kustomize subset) into valid NodePools on the right NodeClass", () => {
    for (const mode of ["auto", "karpenter"]) {
      for (const environment of ["dev", "staging", "prod"]) {
        const objects = kustomizeBuild(path.join(addonsDir, "karpenter/nodepools", mode, environment));
        const nodeClasses = objects.filter((object) => /NodeClass$/.test(String(object.kind)));
        const nodePools = objects.filter((object) => object.kind === "NodePool");
        assert.equal(nodeClasses.length, 1, `${mode}/${environment}: one NodeClass`);
        assert.ok(nodePools.length >= 1, `${mode}/${environment}: at least one NodePool`);
        // Auto Mode cannot use Karpenter's EC2NodeClass; self-managed Karpenter does not know eks.amazonaws.com.
        assert.equal(nodeClasses[0].kind, mode === "auto" ? "NodeClass" : "EC2NodeClass");
        for (const pool of nodePools) {
          const ref = (((pool.spec as Tree).template as Tree).spec as Tree).nodeClassRef as Tree;
          assert.deepEqual(
            ref,
            {
              group: String(nodeClasses[0].apiVersion).split("/")[0],
              kind: nodeClasses[0].kind,
              name: (nodeClasses[0].metadata as Tree).name,
            },
            `${mode}/${environment}: ${String((pool.metadata as Tree).name)} points at the NodeClass`,
          );
          const limits = (pool.spec as Tree).limits as Tree | undefined;
          assert.ok(
            limits?.cpu,
            `${mode}/${environment}: ${String((pool.metadata as Tree).name)} has a CPU limit`,
          );
          const disruption = (pool.spec as Tree).disruption as Tree;
          assert.ok(
            Array.isArray(disruption.budgets) && disruption.budgets.length > 0,
            "disruption budgets set",
          );
        }
        for (const object of objects) validateObject(validators, object as never);
        const capacityTypes = nodePools.flatMap((pool) =>
          (
            (((pool.spec as Tree).template as Tree).spec as Tree).requirements as {
              key: string;
              values: string[];
            }[]
          )
            .filter((requirement) => requirement.key === "karpenter.sh/capacity-type")
            .flatMap((requirement) => requirement.values),
        );
        // dev saves money on spot; prod stays on-demand.
        if (environment === "dev") assert.ok(capacityTypes.includes("spot"), `${mode}/dev has a spot pool`);
        if (environment === "prod") assert.deepEqual([...new Set(capacityTypes)], ["on-demand"]);
      }
    }
  });

  it("every add-on folder has one applicationset.yaml whose ApplicationSets follow the conventions", () => {
    for (const folder of addonFolders) {
      assert.ok(
        fs.existsSync(path.join(addonsDir, folder, "applicationset.yaml")),
        `addons/${folder}/applicationset.yaml`,
      );
    }
    for (const { name, set } of applicationSets()) {
      const spec = set.spec as Tree;
      assert.equal(spec.goTemplate, true, `${name}: goTemplate`);
      assert.deepEqual(spec.goTemplateOptions, ["missingkey=error"], `${name}: missingkey=error`);
      const generators = spec.generators as Tree[];
      assert.equal(generators.length, 1, `${name}: one generator`);
      const matchLabels = ((generators[0].clusters as Tree).selector as Tree).matchLabels as Record<
        string,
        string
      >;
      assert.ok(
        Object.entries(matchLabels).some(([key, value]) => key.startsWith("enable_") && value === "true"),
        `${name}: selects clusters by an enable_* label`,
      );
      assert.equal(templateSpec(set).project, "platform-addons", `${name}: in the platform-addons project`);
      assert.equal(
        wave(set),
        wave((set.spec as Tree).template as Tree),
        `${name}: generated Application has the same wave`,
      );
      for (const source of chartSources(set)) {
        const helm = source.helm as Tree;
        const files = (helm.valueFiles as string[]).map((file) => file.replace(/^.*?\/values\//, "values/"));
        assert.ok(files.length >= 3, `${name}: defaults → environment → cluster value files`);
        assert.match(files[0], /^values\/defaults\.yaml$/);
        assert.match(
          files[files.length - 2],
          /^values\/environments\/\{\{ \.metadata\.labels\.environment \}\}\.yaml$/,
        );
        assert.match(files[files.length - 1], /^values\/clusters\/\{\{ \.name \}\}\.yaml$/);
        assert.equal(helm.ignoreMissingValueFiles, true, `${name}: cluster files are optional`);
      }
    }
  });

  it("each add-on's defaults and per-environment value files exist and parse", () => {
    for (const { folder, name, set } of applicationSets()) {
      for (const source of chartSources(set)) {
        const helm = source.helm as Tree;
        assert.ok(
          fs.existsSync(path.join(addonsDir, folder, "values/defaults.yaml")),
          `${name}: values/defaults.yaml`,
        );
        if ((helm.valueFiles as string[]).some((file) => file.includes("/environments/"))) {
          for (const environment of ["dev", "staging", "prod"]) {
            const file = path.join(addonsDir, folder, "values/environments", `${environment}.yaml`);
            assert.ok(fs.existsSync(file), `${name}: values/environments/${environment}.yaml`);
          }
        }
      }
    }
  });

  it("pins every chart to an exact version (no latest, ranges or wildcards)", () => {
    const pins = applicationSets().flatMap(({ name, set }) =>
      chartSources(set).map((source) => ({
        name,
        chart: source.chart,
        version: String(source.targetRevision),
      })),
    );
    assert.deepEqual(pins.map((pin) => pin.chart).sort(), [
      "argo-cd",
      "aws-load-balancer-controller",
      "cilium",
      "cluster-proportional-autoscaler",
      "cost-analyzer",
      "external-dns",
      "external-secrets",
      "falco",
      "karpenter",
      "metrics-server",
    ]);
    for (const pin of pins)
      assert.match(pin.version, /^\d+\.\d+\.\d+$/, `${pin.name}: ${pin.chart} ${pin.version}`);
  });

  it("orders add-ons with sync waves: basics and CNI first, Karpenter, then node pools, then workloads", () => {
    const waves = new Map(applicationSets().map(({ name, set }) => [name, wave(set)]));
    const project = parseDocuments(path.join(addonsDir, "project.yaml"))[0] as Tree;
    const repository = parseDocuments(path.join(addonsDir, "karpenter/repository.yaml"))[0] as Tree;
    const at = (name: string) => {
      assert.ok(waves.has(name), `ApplicationSet ${name} exists`);
      return waves.get(name) as number;
    };
    for (const name of waves.keys()) {
      assert.ok(wave(project) < at(name), `the project syncs before ${name}`);
      assert.ok(wave(repository) < at(name), `the OCI repository entry syncs before ${name}`);
    }
    assert.ok(at("cluster-base") < at("kubecost"), "the gp3 StorageClass before Kubecost");
    assert.ok(at("cilium") < at("karpenter"), "the CNI before the Karpenter controller");
    assert.ok(at("karpenter") < at("karpenter-nodepools"), "the controller (and its CRDs) before node pools");
    for (const workload of ["falco", "kubecost"]) {
      assert.ok(at("karpenter-nodepools") < at(workload), `node pools before ${workload}`);
    }
    assert.ok(
      at("external-secrets") < at("external-secrets-stores"),
      "the operator (and its CRDs) before the store",
    );
    assert.ok(
      at("cilium") < at("aws-load-balancer-controller"),
      "the CNI before the LB controller's webhook",
    );
  });

  it("customizes the health only of Argo CD kinds some Application syncs (no dead health checks)", () => {
    // The root Application syncs the project, repository entries and ApplicationSets; the ApplicationSets own the
    // Applications, no Application syncs one. A health check for a kind nothing syncs never runs, and sync waves
    // do not wait on it.
    const synced = new Set(
      [
        "project.yaml",
        "karpenter/repository.yaml",
        ...addonFolders.map((folder) => `${folder}/applicationset.yaml`),
      ].flatMap((file) =>
        (parseDocuments(path.join(addonsDir, file)) as Tree[]).map(
          (object) => `${String(object.apiVersion).split("/")[0]}_${String(object.kind)}`,
        ),
      ),
    );
    const values = parseDocuments(path.join(addonsDir, "argo-cd/values/defaults.yaml"))[0] as Tree;
    const cm = ((values.configs as Tree | undefined)?.cm as Record<string, string> | undefined) ?? {};
    const dead = Object.keys(cm)
      .map((key) => /^resource\.customizations\.health\.(argoproj\.io_\w+)$/.exec(key)?.[1])
      .filter((kind): kind is string => kind !== undefined && !synced.has(kind));
    assert.deepEqual(dead, []);
  });

  it("puts every Argo CD object (project, repositories, ApplicationSets) in Argo CD's namespace", () => {
    for (const file of yamlFiles().filter((name) => !name.includes(`${path.sep}values${path.sep}`))) {
      for (const object of parseDocuments(file) as Tree[]) {
        const isArgoObject =
          String(object.apiVersion).startsWith("argoproj.io/") ||
          ((object.metadata as Tree | undefined)?.labels as Record<string, string> | undefined)?.[
            "argocd.argoproj.io/secret-type"
          ] !== undefined;
        if (isArgoObject) assert.equal((object.metadata as Tree).namespace, argocdNamespace, relative(file));
      }
    }
  });

  it("the root Application's include pattern picks up the project, repositories and every applicationset.yaml", () => {
    const alternatives = /^\{(.*)\}$/.exec(rootApplicationInclude)?.[1].split(",") ?? [
      rootApplicationInclude,
    ];
    const matcher = new RegExp(
      `^(${alternatives.map((glob) => glob.replace(/\./g, "\\.").replace(/\*/g, "[^/]*")).join("|")})$`,
    );
    const synced = listFiles()
      .map((file) => path.relative(addonsDir, file).split(path.sep).join("/"))
      .filter((file) => matcher.test(file));
    const expected = [
      "project.yaml",
      "karpenter/repository.yaml",
      ...addonFolders.map((folder) => `${folder}/applicationset.yaml`),
    ].sort();
    assert.deepEqual(synced.sort(), expected);
  });

  it("Falco's custom rules are a valid rules file that loads after the default rules", () => {
    const values = parseDocuments(path.join(addonsDir, "falco/values/defaults.yaml"))[0] as Tree;
    assert.equal((values.driver as Tree).kind, "modern_ebpf", "Bottlerocket blocks kernel modules");
    assert.deepEqual(values.tolerations, [{ operator: "Exists" }], "runs on every node");
    assert.equal((values.falcosidekick as Tree).enabled, true);
    const rulesText = (values.customRules as Record<string, string>)["platform-rules.yaml"];
    const rules = parseDocuments(writeTemp(rulesText))[0] as Tree[];
    const names = rules.filter((item) => "rule" in item).map((item) => item.rule);
    assert.ok(names.includes("Shell in production pod"));
    for (const rule of rules.filter((item) => "rule" in item)) {
      for (const key of ["desc", "condition", "output", "priority"])
        assert.ok(rule[key], `${String(rule.rule)}: ${key}`);
    }
    // The chart mounts customRules in /etc/falco/rules.d, and the custom rules use macros and lists (spawned_process,
    // shell_binaries) from the default falco_rules.yaml, so that file must load first. The chart's default
    // falco.rules_files does so; any values file that overrides it must keep that order.
    const defaultRules = "/etc/falco/falco_rules.yaml";
    const customLocation = (entry: string) => entry.replace(/\/+$/, "").startsWith("/etc/falco/rules.d");
    const valueFiles = listFiles(path.join(addonsDir, "falco/values")).filter((file) =>
      /\.ya?ml$/.test(file),
    );
    assert.ok(valueFiles.includes(path.join(addonsDir, "falco/values/defaults.yaml")));
    for (const file of valueFiles) {
      const falco = ((parseDocuments(file)[0] ?? {}) as Tree).falco as Tree | undefined;
      const rulesFiles = falco?.rules_files as string[] | undefined;
      if (rulesFiles === undefined) continue;
      const defaultIndex = rulesFiles.indexOf(defaultRules);
      const customIndex = rulesFiles.findIndex(customLocation);
      assert.ok(defaultIndex >= 0, `${relative(file)}: falco.rules_files drops ${defaultRules}`);
      assert.ok(customIndex >= 0, `${relative(file)}: falco.rules_files drops /etc/falco/rules.d`);
      assert.ok(
        defaultIndex < customIndex,
        `${relative(file)}: ${defaultRules} must load before /etc/falco/rules.d`,
      );
    }
  });

  it("is yamllint clean", function () {
    requireTool(this, "yamllint");
    try {
      const config = path.join(addonsDir, ".yamllint.yaml");
      execFileSync("yamllint", ["-s", "-f", "parsable", "-c", config, addonsDir], { encoding: "utf8" });
    } catch (error) {
      assert.fail(`yamllint:\n${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  });
});

function writeTemp(text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "falco-rules-")), "rules.yaml");
  fs.writeFileSync(file, text);
  return file;
}
