import { Construct } from "./cdktf.js";
import { ExternalPeer } from "./connections.js";
import type { Database } from "./database.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pkiWorkload, type SiteContext } from "./site-context.js";

export const RA_PORT = 8443;

/** Where the frontends read the issuing CA + root chain put into holders' PKCS#12 files
 *  (ConfigMap `ca-chain`, created by the RA operator from the ceremonies' outputs). */
export const CA_CHAIN_DIR = "/etc/lanic-ca/ca-chain";

/**
 * The registration authority: two front ends and the RA service in its own zone, which vets
 * applications and is the only caller of the issuing CAs (mTLS, RA client certificate). Split by
 * privilege: the front ends hold no database or CA access (Boulder: WFE vs RA), and the RA keeps
 * applications in its own store in the RA zone, never in the CA database. Two exposures
 * (docs/adr/0068-ra-applicant-exposure.md):
 *   - `applicantPages` (public zone, reached through LANIC's edge): companies applying for
 *     organisation certificates are not on the government network; it never asks for a client
 *     certificate, so nothing reachable from the internet can act as an operator;
 *   - `frontend`, the operator console and the officials' forms (government zone, government
 *     network only, operator client certificates).
 * The RA service is reachable from the two front ends only.
 */
export class RegistrationAuthority extends Construct {
  readonly frontend: HardenedWorkload;
  readonly applicantPages: HardenedWorkload;
  readonly service: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext, props: { readonly store: Database }) {
    super(scope, id);
    this.frontend = pkiWorkload(this, "frontend", ctx, {
      kind: "ra-frontend",
      name: "ra-frontend",
      zone: "government",
      args: ["ra", "--frontend", "--exposure=operator", `--bulk-max-rows=${ctx.env.ra.bulkUploadMaxRows}`, `--chain-file=${CA_CHAIN_DIR}/chain.pem`],
      ports: [{ name: "https", port: RA_PORT }],
    });
    this.frontend.connections.allowFrom(new ExternalPeer("government-network", "government-network", ctx.env.ra.governmentNetworks), RA_PORT, {
      purpose: "RA operator console, officials' forms and bulk CSV upload (government network only, operator client certificates)",
    });
    this.applicantPages = pkiWorkload(this, "applicant-pages", ctx, {
      kind: "ra-frontend",
      name: "ra-applicant",
      zone: "public",
      // The one RA part meant to face the internet (the review diff classifies its exposure so).
      internetFacing: true,
      args: ["ra", "--frontend", "--exposure=applicant", `--bulk-max-rows=${ctx.env.ra.bulkUploadMaxRows}`, `--chain-file=${CA_CHAIN_DIR}/chain.pem`],
      ports: [{ name: "https", port: RA_PORT }],
    });
    this.applicantPages.connections.allowFrom(new ExternalPeer("internet", "internet", ["0.0.0.0/0"]), RA_PORT, {
      purpose: "RA applicant pages through LANIC's edge (companies apply, enroll, follow and revoke; no operator action)",
    });
    for (const w of [this.frontend, this.applicantPages]) w.addVolume("ca-chain", CA_CHAIN_DIR, { configMap: "ca-chain" });
    this.service = pkiWorkload(this, "service", ctx, {
      kind: "ra",
      name: "ra",
      zone: "ra",
      args: ["ra", "--backend"],
      ports: [{ name: "https", port: RA_PORT }],
      // The RA holds the RA client key for mTLS to the issuing CA; it does not sign certificates.
    });
    this.frontend.connections.allowTo(this.service, RA_PORT, { purpose: "applications and vetting to the RA", mtls: true });
    this.applicantPages.connections.allowTo(this.service, RA_PORT, { purpose: "applicants' requests to the RA", mtls: true });
    this.service.addVolume("ra-client-cert", "/etc/lanic-ca/ra-client", { secret: "ra-client-cert" });
    // mTLS both ends (`pki-services ra` reads --tls-dir and --backend-tls-dir; LCA-NET-07): the
    // RA's server identity and client CA, and each front end's client certificate to it.
    this.service.addVolume("tls", "/etc/lanic-ca/tls", { secret: "ra-tls" });
    for (const w of [this.frontend, this.applicantPages]) {
      w.addVolume("tls", "/etc/lanic-ca/tls", { secret: `${w.props.name}-tls` });
      w.addVolume("backend-client-tls", "/etc/lanic-ca/ra-backend-client", { secret: `${w.props.name}-backend-client-tls` });
    }
    props.store.grantReadWrite(this.service);
  }
}
