/**
 * The classes our constructs and stacks use from cdktf, constructs and the Kubernetes provider,
 * loaded with `require`, in this one place (ADR 0056).
 *
 * These packages are CommonJS. When an ES module `import`s a CommonJS file, Node first runs its
 * export lexer over that file's source, and over every file it re-exports: for cdktf's index and
 * the provider's resource modules (≈ 12.5 MB of JavaScript) that is a second full pass over the
 * source before `require` compiles it. `require` skips the lexer and gives the same module
 * objects; bench/synth.ts measures the saving (≥ 10 % of synth, ADR 0056) by loading them with
 * ES imports instead. Type-only imports from the packages themselves are erased and stay where
 * they are.
 */
import { createRequire } from "node:module";
import type * as CdktfLib from "cdktf";
import type * as ConstructsLib from "constructs";
import type * as ClusterRoleV1Lib from "@cdktf/provider-kubernetes/lib/cluster-role-v1/index.js";
import type * as ConfigMapV1Lib from "@cdktf/provider-kubernetes/lib/config-map-v1/index.js";
import type * as CronJobV1Lib from "@cdktf/provider-kubernetes/lib/cron-job-v1/index.js";
import type * as DeploymentV1Lib from "@cdktf/provider-kubernetes/lib/deployment-v1/index.js";
import type * as EndpointsV1Lib from "@cdktf/provider-kubernetes/lib/endpoints-v1/index.js";
import type * as ManifestLib from "@cdktf/provider-kubernetes/lib/manifest/index.js";
import type * as NamespaceV1Lib from "@cdktf/provider-kubernetes/lib/namespace-v1/index.js";
import type * as NetworkPolicyV1Lib from "@cdktf/provider-kubernetes/lib/network-policy-v1/index.js";
import type * as PodDisruptionBudgetV1Lib from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1/index.js";
import type * as ProviderLib from "@cdktf/provider-kubernetes/lib/provider/index.js";
import type * as RoleBindingV1Lib from "@cdktf/provider-kubernetes/lib/role-binding-v1/index.js";
import type * as ServiceV1Lib from "@cdktf/provider-kubernetes/lib/service-v1/index.js";

const require = createRequire(import.meta.url);
const provider = <T>(resource: string) => require(`@cdktf/provider-kubernetes/lib/${resource}/index.js`) as T;

export const { Construct } = require("constructs") as typeof ConstructsLib;
export type Construct = ConstructsLib.Construct;

export const { App, LocalBackend, TerraformElement, TerraformStack, Token } = require("cdktf") as typeof CdktfLib;
export type App = CdktfLib.App;
export type LocalBackend = CdktfLib.LocalBackend;
export type TerraformElement = CdktfLib.TerraformElement;
export type TerraformStack = CdktfLib.TerraformStack;
export type Token = CdktfLib.Token;

export const { ClusterRoleV1 } = provider<typeof ClusterRoleV1Lib>("cluster-role-v1");
export type ClusterRoleV1 = ClusterRoleV1Lib.ClusterRoleV1;
export const { ConfigMapV1 } = provider<typeof ConfigMapV1Lib>("config-map-v1");
export type ConfigMapV1 = ConfigMapV1Lib.ConfigMapV1;
export const { CronJobV1 } = provider<typeof CronJobV1Lib>("cron-job-v1");
export type CronJobV1 = CronJobV1Lib.CronJobV1;
export const { DeploymentV1 } = provider<typeof DeploymentV1Lib>("deployment-v1");
export type DeploymentV1 = DeploymentV1Lib.DeploymentV1;
export const { EndpointsV1 } = provider<typeof EndpointsV1Lib>("endpoints-v1");
export type EndpointsV1 = EndpointsV1Lib.EndpointsV1;
export const { Manifest } = provider<typeof ManifestLib>("manifest");
export type Manifest = ManifestLib.Manifest;
export const { NamespaceV1 } = provider<typeof NamespaceV1Lib>("namespace-v1");
export type NamespaceV1 = NamespaceV1Lib.NamespaceV1;
export const { NetworkPolicyV1 } = provider<typeof NetworkPolicyV1Lib>("network-policy-v1");
export type NetworkPolicyV1 = NetworkPolicyV1Lib.NetworkPolicyV1;
export const { PodDisruptionBudgetV1 } = provider<typeof PodDisruptionBudgetV1Lib>("pod-disruption-budget-v1");
export type PodDisruptionBudgetV1 = PodDisruptionBudgetV1Lib.PodDisruptionBudgetV1;
export const { KubernetesProvider } = provider<typeof ProviderLib>("provider");
export type KubernetesProvider = ProviderLib.KubernetesProvider;
export const { RoleBindingV1 } = provider<typeof RoleBindingV1Lib>("role-binding-v1");
export type RoleBindingV1 = RoleBindingV1Lib.RoleBindingV1;
export const { ServiceV1 } = provider<typeof ServiceV1Lib>("service-v1");
export type ServiceV1 = ServiceV1Lib.ServiceV1;
