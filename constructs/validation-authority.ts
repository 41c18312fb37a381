import { Construct, ServiceV1 } from "./cdktf.js";
import { ExternalPeer } from "./connections.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pkiWorkload, type SiteContext } from "./site-context.js";

export const OCSP_HTTP_PORT = 8080;
export const OCSP_PUBLISH_PORT = 8443;
/** Headless Service naming every responder pod: the signers push to each one. */
export const OCSP_PUBLISH_SERVICE = "ocsp-responder-publish";
const CACHE_DIR = "/var/lib/pki-services/ocsp";
/** The certificates of the CAs the responder serves (`<ca>.pem`): every pushed response is
 *  verified against them, and `ocsp-signer-<ca>` may push for `<ca>` only (RFC 6960 4.2.2.2). */
export const OCSP_TRUST_DIR = "/etc/lanic-ca/ca-certs";

/** Serving processes for a CPU limit: one per whole core (at least one), e.g. "2" → 2, "500m" → 1.
 *  The responder's primary (publish port, cache file) is mostly idle beside them (ADR 0052). */
export function ocspWorkers(cpuLimit: string): number {
  const cores = cpuLimit.endsWith("m") ? Number(cpuLimit.slice(0, -1)) / 1000 : Number(cpuLimit);
  return Math.max(1, Math.floor(cores));
}

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
      internetFacing: true,
      args: ["ocsp-responder", "--serve", `--workers=${ocspWorkers(ctx.env.workloads["ocsp-responder"]?.resources.cpuLimit ?? "1")}`, `--cache-file=${CACHE_DIR}/responses.bin`],
      ports: [
        { name: "http", port: OCSP_HTTP_PORT },
        { name: "publish", port: OCSP_PUBLISH_PORT },
      ],
    });
    // The cache journal survives a container restart (emptyDir lives as long as the pod); a new
    // pod gets everything from the signers on their next push.
    this.responder.addVolume("ocsp-cache", CACHE_DIR, { emptyDir: "1Gi" }, false); // the journal: one copy of the responses
    this.responder.addVolume("publish-tls", "/etc/lanic-ca/publish-tls", { secret: "ocsp-responder-publish-tls" });
    this.responder.addVolume("ca-certs", OCSP_TRUST_DIR, { configMap: "ocsp-responder-ca-certificates" });
    new ServiceV1(this, "publish-service", {
      metadata: { name: OCSP_PUBLISH_SERVICE, namespace: this.responder.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      spec: {
        clusterIp: "None",
        selector: this.responder.labels,
        port: [{ name: "publish", port: OCSP_PUBLISH_PORT, targetPort: String(OCSP_PUBLISH_PORT), protocol: "TCP" }],
      },
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
