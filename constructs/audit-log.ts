import { Construct } from "./cdktf.js";
import type { Environment } from "../environments/schema.js";
import { ExternalPeer } from "./connections.js";
import { HardenedWorkload } from "./hardened-workload.js";
import type { TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";

/** The audit collector's syslog-over-TLS port (RFC 5425). */
export const AUDIT_PORT = 6514;

export interface AuditLogProps {
  readonly model: TopologyModel;
  readonly zone: Zone;
  readonly podCidr: string;
  readonly env: Environment;
}

/**
 * The audit log of a site: a collector in the audit zone receiving every CA, RA and VA
 * workload's log over syslog-TLS and forwarding it to the environment's sink (SIEM, retention
 * per CP/CPS 5.4.3). The hash chain in the CA database is verified by the integrity check
 * (`pki-services audit verify`), scheduled by the IssuingTier at the primary site.
 */
export class AuditLog extends Construct {
  readonly collector: HardenedWorkload;

  constructor(scope: Construct, id: string, props: AuditLogProps) {
    super(scope, id);
    const size = props.env.workloads["audit-collector"];
    if (!size) throw new Error(`${this.node.path}: the environment sizes no 'audit-collector' workload`);
    this.collector = new HardenedWorkload(this, "collector", {
      model: props.model,
      zone: props.zone,
      podCidr: props.podCidr,
      kind: "audit-collector",
      name: "audit-collector",
      image: props.env.images.auditCollector,
      args: ["--config=/etc/lanic-ca/audit-collector.conf"],
      replicas: size.replicas,
      resources: size.resources,
      ports: [{ name: "syslog-tls", port: AUDIT_PORT }],
    });
    const sink = props.env.auditLog.sink;
    this.collector.connections.allowTo(new ExternalPeer("audit-sink", "audit-sink", [`${sink.address}/32`]), sink.port, {
      purpose: `audit log forwarding (${sink.type}), retention ${props.env.auditLog.retentionDays} days`,
      mtls: true,
    });
  }

  /** `workload` ships its log to this site's collector. */
  ship(workload: HardenedWorkload): void {
    workload.addEnv("AUDIT_SYSLOG_ADDR", { value: `audit-collector.${this.collector.namespace}.svc:${AUDIT_PORT}` });
    workload.connections.allowTo(this.collector, AUDIT_PORT, { purpose: "audit log (syslog over TLS)", mtls: true });
  }
}
