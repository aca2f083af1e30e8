import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalImage, extractImages, parseImageReference, uniqueImages } from "../../pipeline/images";

const fixtures = join(__dirname, "..", "fixtures", "pipeline", "manifests");
const workloads = readFileSync(join(fixtures, "workloads.yaml"), "utf8");

describe("pipeline/images: image extraction from rendered manifests", () => {
  it("finds containers, init containers and ephemeral containers in every workload kind", () => {
    const { uses, problems } = extractImages(workloads);
    assert.deepEqual(problems, []);
    const found = uses.map(
      (use) => `${use.kind}/${use.name} ${use.containerKind} ${use.container} ${use.image}`,
    );
    assert.deepEqual(found, [
      "Deployment/demo-api containers api ghcr.io/acme/api:2.3.1",
      "Deployment/demo-api containers proxy nginx",
      "Deployment/demo-api initContainers migrate ghcr.io/acme/migrate:2.3.1",
      "DaemonSet/demo-agent containers agent quay.io/acme/agent:1.0.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "CronJob/demo-report containers report registry.example.com:5000/tools/report:0.4",
      "CronJob/demo-report initContainers wait busybox:1.36",
      "StatefulSet/demo-db containers db docker.io/library/nginx:latest",
      "StatefulSet/demo-db containers exporter ghcr.io/acme/api:2.3.1",
      "Job/demo-hook containers hook public.ecr.aws/acme/hook@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
      "Pod/debug containers main index.docker.io/acme/tool:3",
      "Pod/debug ephemeralContainers debugger busybox:1.36",
    ]);
  });

  it("records where each image sits, down to the CronJob's job template", () => {
    const { uses } = extractImages(workloads);
    const wait = uses.find((use) => use.container === "wait");
    assert.equal(wait?.path, "spec.jobTemplate.spec.template.spec.initContainers[0]");
    assert.equal(uses.find((use) => use.container === "api")?.namespace, "demo");
  });

  it("does not treat an `image` key outside a container list as an image", () => {
    const { uses } = extractImages(workloads);
    assert.ok(uses.every((use) => !use.image.includes("should-not-be-scanned")));
  });

  it("deduplicates by canonical reference: nginx and docker.io/library/nginx:latest are one scan", () => {
    const images = uniqueImages(extractImages(workloads).uses);
    assert.deepEqual(
      images.map((image) => image.reference),
      [
        "docker.io/acme/tool:3",
        "docker.io/library/busybox:1.36",
        "docker.io/library/nginx:latest",
        "ghcr.io/acme/api:2.3.1",
        "ghcr.io/acme/migrate:2.3.1",
        "public.ecr.aws/acme/hook@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
        "quay.io/acme/agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry.example.com:5000/tools/report:0.4",
      ],
    );
    const nginx = images.find((image) => image.reference === "docker.io/library/nginx:latest");
    assert.equal(nginx?.uses.length, 2);
    assert.equal(nginx?.floating, true, "the untagged spelling is reported as a floating tag");
    assert.equal(images.find((image) => image.reference.startsWith("ghcr.io/acme/api"))?.floating, false);
  });

  it("scans a digest-pinned image by its digest, which is what the kubelet pulls", () => {
    assert.equal(
      canonicalImage(
        "quay.io/acme/agent:1.0.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      ),
      "quay.io/acme/agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
  });

  it("parses references like Docker: registry only with a dot, a port or localhost", () => {
    assert.deepEqual(parseImageReference("acme/tool"), {
      registry: "docker.io",
      repository: "acme/tool",
      tag: undefined,
      digest: undefined,
    });
    assert.deepEqual(parseImageReference("localhost/tool:1"), {
      registry: "localhost",
      repository: "tool",
      tag: "1",
      digest: undefined,
    });
    assert.deepEqual(parseImageReference("registry.example.com:5000/a/b:0.4"), {
      registry: "registry.example.com:5000",
      repository: "a/b",
      tag: "0.4",
      digest: undefined,
    });
    assert.throws(() => parseImageReference("Acme/Tool:1"), /invalid repository/);
    assert.throws(() => parseImageReference("acme/tool@sha256"), /malformed digest/);
  });

  it("reports containers whose image is empty or still a template instead of skipping them", () => {
    const { uses, problems } = extractImages(readFileSync(join(fixtures, "broken.yaml"), "utf8"));
    assert.deepEqual(uses, []);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /Deployment\/half-rendered .*containers\[0\] \(app\).*not a valid reference/);
    assert.match(problems[1], /\(sidecar\): no image/);
  });

  it("fails loudly on YAML that is not valid (a broken render must not pass as 'no images')", () => {
    assert.throws(() => extractImages("kind: Pod\nspec: [unclosed"), /not valid YAML/);
  });
});
