import { relative, resolve } from "node:path";
import { App, KubernetesProvider, LocalBackend, TerraformStack } from "../constructs/cdktf.js";
import type { Construct } from "constructs";
import type { Environment, Site } from "../environments/schema.js";

/**
 * One Terraform stack per environment and site (`cdktf.out/stacks/<env>-<site>/cdk.tf.json`),
 * applied against that site's cluster. The provider is configured by kubeconfig path and
 * context only: no credential is ever written into the stack.
 *
 * State stays local (README: keep it on LANIC's operator workstation, or configure a backend in
 * Laos): `terraform.<stack>.tfstate` in the folder synth ran from, where cdktf's default puts it,
 * but written as a path relative to the stack's folder (where `tofu` runs) rather than cdktf's
 * absolute one, so the output names no directory of the machine that synthesized it and two
 * checkouts give the same files.
 */
export class SiteStack extends TerraformStack {
  constructor(
    scope: Construct,
    readonly env: Environment,
    readonly site: Site,
  ) {
    super(scope, `${env.name}-${site.name}`);
    const stackDir = resolve(App.of(this).outdir, "stacks", this.node.id);
    new LocalBackend(this, { path: `${relative(stackDir, process.cwd()) || "."}/terraform.${this.node.id}.tfstate` });
    new KubernetesProvider(this, "kubernetes", {
      configPath: site.kubernetes.configPath,
      configContext: site.kubernetes.context,
    });
  }
}
