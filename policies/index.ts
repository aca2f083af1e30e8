import { PolicyPack } from "@pulumi/policy";
import { policies, policyPackName } from "./pack";

// Constructing the pack starts the analyzer's gRPC server for the Pulumi CLI, so it happens only here;
// tests and the offline synth import ./pack and ./harness instead.
new PolicyPack(policyPackName, {
  description:
    "Guardrails for the EKS GitOps platform: private, encrypted, logged, Access Entries + Pod Identity, pinned.",
  enforcementLevel: "advisory",
  policies,
});
