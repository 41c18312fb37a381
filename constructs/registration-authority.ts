import { Construct } from "../stacks/cdktf.js";
import { ExternalPeer } from "./connections.js";
import type { Database } from "./database.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pkiWorkload, type SiteContext } from "./site-context.js";

export const RA_PORT = 8443;

/**
 * The registration authority: a front end on the government network (web form, bulk CSV upload)
 * and the RA service in its own zone, which vets applications and is the only caller of the
 * issuing CAs (mTLS, RA client certificate). Split by privilege: the front end holds no
 * database or CA access (Boulder: WFE vs RA), and the RA keeps applications in its own store
 * in the RA zone, never in the CA database.
 */
export class RegistrationAuthority extends Construct {
  readonly frontend: HardenedWorkload;
  readonly service: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext, props: { readonly store: Database }) {
    super(scope, id);
    this.frontend = pkiWorkload(this, "frontend", ctx, {
      kind: "ra-frontend",
      name: "ra-frontend",
      zone: "government",
      args: ["ra", "--frontend", `--bulk-max-rows=${ctx.env.ra.bulkUploadMaxRows}`],
      ports: [{ name: "https", port: RA_PORT }],
    });
    this.frontend.connections.allowFrom(new ExternalPeer("government-network", "government-network", ctx.env.ra.governmentNetworks), RA_PORT, {
      purpose: "RA web form and bulk CSV upload (government network only)",
    });
    this.service = pkiWorkload(this, "service", ctx, {
      kind: "ra",
      name: "ra",
      zone: "ra",
      args: ["ra", "--backend"],
      ports: [{ name: "https", port: RA_PORT }],
      // The RA holds the RA client key for mTLS to the issuing CA; it does not sign certificates.
    });
    this.frontend.connections.allowTo(this.service, RA_PORT, { purpose: "applications to the RA", mtls: true });
    this.service.addVolume("ra-client-cert", "/etc/lanic-ca/ra-client", { secret: "ra-client-cert" });
    props.store.grantReadWrite(this.service);
  }
}
