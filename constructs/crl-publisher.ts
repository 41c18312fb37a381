import { Construct } from "constructs";
import type { IssuingCa as IssuingCaDef } from "../environments/schema.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { cronEvery, pkiWorkload, type SiteContext } from "./site-context.js";

export interface CrlPublisherProps {
  readonly ca: IssuingCaDef;
  /** `--config=...` argument pointing at the CA's ConfigMap. */
  readonly configArg: string;
}

/**
 * Publishes a full CRL of one issuing CA on the environment's schedule (BR 4.9.7: at least every
 * 7 days, nextUpdate ≤ 10 days after thisUpdate), signed in the HSM with the CA key. A CronJob
 * that never overlaps itself; at a backup site it is suspended until failover.
 */
export class CrlPublisher extends Construct {
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext, props: CrlPublisherProps) {
    super(scope, id);
    const ca = props.ca;
    this.workload = pkiWorkload(this, "job", ctx, {
      kind: "crl-publisher",
      name: `crl-publisher-${ca.name}`,
      zone: "issuing",
      args: ["crl-publisher", props.configArg, "--once"],
      schedule: cronEvery(ca.crl.intervalHours),
      signing: true,
      ca: ca.name,
    });
    ctx.hsm.partition(ca.partition).grantSign(this.workload, ca.keyLabel);
    ctx.database.grantReadWrite(this.workload);
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
