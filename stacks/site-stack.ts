import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider/index.js";
import type { Environment, Site } from "../environments/schema.js";

/**
 * One Terraform stack per environment and site (`cdktf.out/stacks/<env>-<site>/cdk.tf.json`),
 * applied against that site's cluster. The provider is configured by kubeconfig path and
 * context only: no credential is ever written into the stack.
 */
export class SiteStack extends TerraformStack {
  constructor(scope: Construct, readonly env: Environment, readonly site: Site) {
    super(scope, `${env.name}-${site.name}`);
    new KubernetesProvider(this, "kubernetes", {
      configPath: site.kubernetes.configPath,
      configContext: site.kubernetes.context,
    });
  }
}
