import { Construct } from "constructs";
import { ExternalPeer } from "./connections.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pkiWorkload, type SiteContext } from "./site-context.js";

export const OCSP_HTTP_PORT = 8080;
export const OCSP_PUBLISH_PORT = 8443;

/**
 * The validation authority (RFC 6960, BR 4.9.9–4.9.10): a responder in the public zone serving
 * pre-signed responses, and per issuing CA an `ocsp-signer` in the issuing zone that signs them
 * with the CA's delegated OCSP key in the HSM and pushes them out. The public zone holds no key
 * and reaches neither the HSM nor the database; it keeps answering from its cache when they are
 * down (until the responses expire).
 */
export class ValidationAuthority extends Construct {
  readonly responder: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext) {
    super(scope, id);
    this.responder = pkiWorkload(this, "responder", ctx, {
      kind: "ocsp-responder",
      name: "ocsp-responder",
      zone: "public",
      args: ["ocsp-responder", "--serve"],
      ports: [
        { name: "http", port: OCSP_HTTP_PORT },
        { name: "publish", port: OCSP_PUBLISH_PORT },
      ],
    });
    this.responder.connections.allowFrom(new ExternalPeer("internet", "internet", ["0.0.0.0/0"]), OCSP_HTTP_PORT, {
      purpose: "OCSP (RFC 6960) over HTTP",
    });
  }

  /** `signer` may push pre-signed responses to the responder (mTLS). */
  grantPublish(signer: HardenedWorkload): void {
    signer.connections.allowTo(this.responder, OCSP_PUBLISH_PORT, { purpose: "publish pre-signed OCSP responses", mtls: true });
  }
}
