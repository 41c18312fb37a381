import { Construct } from "./cdktf.js";
import type { IssuingCa as IssuingCaDef } from "../environments/schema.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { cronEvery, pkiWorkload, type SiteContext } from "./site-context.js";

/** Where CRLs are written before they are pushed (a scratch volume: the repository keeps them). */
const CRL_OUT_DIR = "/var/lib/pki-services/crl";

export interface CrlPublisherProps {
  readonly ca: IssuingCaDef;
  /** `--config=...` argument pointing at the CA's ConfigMap. */
  readonly configArg: string;
}

/**
 * Publishes a full CRL of one issuing CA on the environment's schedule (BR 4.9.7: at least every
 * 7 days, nextUpdate ≤ 10 days after thisUpdate), signed in the HSM with the CA key: a CronJob
 * that never overlaps itself, and a watcher that publishes again within a minute of any
 * revocation. At a backup site both are warm standbys until failover.
 */
export class CrlPublisher extends Construct {
  /** The scheduled full CRL (the floor of BR 4.9.7). */
  readonly workload: HardenedWorkload;
  /** Watches revocations and publishes a new CRL within a minute of one. */
  readonly watcher: HardenedWorkload;

  get workloads(): HardenedWorkload[] {
    return [this.workload, this.watcher];
  }

  constructor(scope: Construct, id: string, ctx: SiteContext, props: CrlPublisherProps) {
    super(scope, id);
    const ca = props.ca;
    const common = { kind: "crl-publisher" as const, zone: "issuing" as const, signing: true, ca: ca.name };
    this.workload = pkiWorkload(this, "job", ctx, {
      ...common,
      name: `crl-publisher-${ca.name}`,
      args: ["crl-publisher", props.configArg, "--once", `--out=${CRL_OUT_DIR}`],
      schedule: cronEvery(ca.crl.intervalHours),
    });
    // Two watchers may both publish after a revocation: CRL numbers come from the database and
    // the repository refuses an older CRL, so they cannot go backwards.
    this.watcher = pkiWorkload(this, "watcher", ctx, {
      ...common,
      name: `crl-publisher-${ca.name}-watch`,
      args: ["crl-publisher", props.configArg, `--out=${CRL_OUT_DIR}`],
    });
    for (const w of this.workloads) {
      w.addVolume("crl-out", CRL_OUT_DIR, { emptyDir: "256Mi" }, false);
      ctx.hsm.partition(ca.partition).grantSign(w, ca.keyLabel);
      ctx.database.grantReadWrite(w);
    }
    if (!ctx.standby)
      ctx.model.schedules.push({
        kind: "crl",
        ca: ca.name,
        intervalHours: ca.crl.intervalHours,
        validityHours: ca.crl.nextUpdateHours,
        path: this.workload.node.path,
      });
  }
}
