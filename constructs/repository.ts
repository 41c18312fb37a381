import { Construct } from "./cdktf.js";
import { ExternalPeer } from "./connections.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pkiWorkload, type SiteContext } from "./site-context.js";

export const REPOSITORY_HTTP_PORT = 8080;
export const REPOSITORY_PUBLISH_PORT = 8443;

/**
 * The public repository (BR 2.1, 2.2): CA certificates at their AIA URLs, CRLs at their CDP
 * URLs, the CP/CPS. Served to the internet over HTTP; written only by the CA's publishers over
 * mTLS on a separate port, so nothing in the public zone ever connects inwards.
 */
export class Repository extends Construct {
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext) {
    super(scope, id);
    this.workload = pkiWorkload(this, "repository", ctx, {
      kind: "repository",
      name: "repository",
      zone: "public",
      internetFacing: true,
      args: ["repository", `--base-url=${ctx.env.repository.baseUrl}`],
      ports: [
        { name: "http", port: REPOSITORY_HTTP_PORT },
        { name: "publish", port: REPOSITORY_PUBLISH_PORT },
      ],
    });
    // Published files live on a shared volume (ReadWriteMany, provisioned by LANIC): a push to
    // one replica is served by all, and survives restarts.
    this.workload.addVolume("repository-data", "/var/lib/pki-services/repository", { pvc: "repository-data" }, false);
    this.workload.addVolume("publish-tls", "/etc/lanic-ca/publish-tls", { secret: "repository-publish-tls" });
    this.workload.connections.allowFrom(new ExternalPeer("internet", "internet", ["0.0.0.0/0"]), REPOSITORY_HTTP_PORT, {
      purpose: "public repository: CA certificates, CRLs, CP/CPS (BR 2.2)",
    });
  }

  /** `publisher` may push CRLs and CA certificates to the repository (mTLS). */
  grantPublish(publisher: HardenedWorkload): void {
    publisher.connections.allowTo(this.workload, REPOSITORY_PUBLISH_PORT, { purpose: "publish CRLs and CA certificates", mtls: true });
  }
}
