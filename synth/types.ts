/**
 * The offline synth's record of one stack: what `npm run synth` writes to out/<stack>/resources.json and what the
 * policy pack, the cost estimate and the tests read. Field names follow Pulumi's own (URN, type, parent).
 */
export interface SynthResource {
  /** Pulumi URN, e.g. urn:pulumi:dev::eks-gitops-platform::platform:index:Cluster$aws:eks/cluster:Cluster::dev */
  readonly urn: string;
  /** Resource type token, e.g. aws:eks/cluster:Cluster, kubernetes:helm.sh/v3:Release, pulumi:pulumi:Stack. */
  readonly type: string;
  /** Logical name given in the program. */
  readonly name: string;
  /** URN of the parent resource ("" for the stack itself). */
  readonly parent: string;
  /** true for provider-managed resources, false for components (which have no inputs of their own). */
  readonly custom: boolean;
  /** The resource's inputs as the engine received them (outputs of other resources resolved to mock values). */
  readonly inputs: Record<string, unknown>;
  /** URNs this resource depends on (explicit dependsOn plus every input's source resource). */
  readonly dependencies: readonly string[];
  /** Per input property, the URNs its value came from. */
  readonly propertyDependencies: Record<string, readonly string[]>;
  /** Resource options that matter to guardrails. */
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** The provider reference the resource is created with ("" for the default provider). */
  readonly provider: string;
}

export interface SynthResult {
  readonly project: string;
  readonly stack: string;
  /** The validated, defaulted stack config the program ran with. */
  readonly config: unknown;
  /** Every resource in registration order, the stack resource first. */
  readonly resources: readonly SynthResource[];
  /** Stack outputs with secret values replaced by "[secret]". */
  readonly outputs: Record<string, unknown>;
}
