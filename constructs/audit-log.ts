import { ConfigMapV1, Construct } from "./cdktf.js";
import type { Environment } from "../environments/schema.js";
import { ExternalPeer } from "./connections.js";
import { HardenedWorkload } from "./hardened-workload.js";
import type { TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";
import { ConstructError } from "./errors.js";

/** The audit collector's syslog-over-TLS port (RFC 5425). */
export const AUDIT_PORT = 6514;

const CONFIG_DIR = "/etc/lanic-ca/collector";
const TLS_DIR = "/etc/lanic-ca/tls";
const SINK_CLIENT_DIR = "/etc/lanic-ca/sink-client";
/** Where a shipper mounts its client certificate to the collector. */
export const AUDIT_CLIENT_TLS_DIR = "/etc/lanic-ca/audit-client";

/** The collector's Fluent Bit configuration (classic format): syslog over mutual TLS in
 *  (RFC 5425; `tls.verify_client_cert`, Fluent Bit 5.0 or later), syslog over mutual TLS out to
 *  the sink. Paths only: the certificates and keys are mounted from Secrets. */
function collectorConfig(sink: Environment["auditLog"]["sink"]): string {
  const section = (name: string, entries: [string, string | number][]) => [`[${name}]`, ...entries.map(([k, v]) => `    ${k.padEnd(22)} ${v}`)].join("\n");
  return `${[
    section("SERVICE", [
      ["flush", 1],
      ["log_level", "info"],
      ["parsers_file", "/fluent-bit/etc/parsers.conf"],
    ]),
    section("INPUT", [
      ["name", "syslog"],
      ["mode", "tcp"],
      ["format", "octet_counting"], // RFC 5425 4.3 framing, as the shippers send (pki-services audit/syslog.ts)
      ["listen", "0.0.0.0"],
      ["port", AUDIT_PORT],
      ["parser", "syslog-rfc5424"],
      ["tls", "on"],
      ["tls.verify", "on"],
      ["tls.verify_client_cert", "on"],
      ["tls.crt_file", `${TLS_DIR}/tls.crt`],
      ["tls.key_file", `${TLS_DIR}/tls.key`],
      ["tls.ca_file", `${TLS_DIR}/ca.crt`],
    ]),
    section("OUTPUT", [
      ["name", "syslog"],
      ["match", "*"],
      ["host", sink.address],
      ["port", sink.port],
      ["mode", "tls"],
      ["syslog_format", "rfc5424"],
      ["tls", "on"],
      ["tls.verify", "on"],
      ["tls.crt_file", `${SINK_CLIENT_DIR}/tls.crt`],
      ["tls.key_file", `${SINK_CLIENT_DIR}/tls.key`],
      ["tls.ca_file", `${SINK_CLIENT_DIR}/ca.crt`],
    ]),
  ].join("\n\n")}\n`;
}

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
    if (!size) throw new ConstructError(`the environment sizes no 'audit-collector' workload`, this);
    this.collector = new HardenedWorkload(this, "collector", {
      model: props.model,
      zone: props.zone,
      podCidr: props.podCidr,
      kind: "audit-collector",
      name: "audit-collector",
      image: props.env.images.auditCollector,
      args: [`--config=${CONFIG_DIR}/audit-collector.conf`],
      replicas: size.replicas,
      resources: size.resources,
      ports: [{ name: "syslog-tls", port: AUDIT_PORT }],
    });
    const sink = props.env.auditLog.sink;
    // mTLS both ends (NCSSR 1.2.2; LCA-NET-07 reads the configuration): the collector's server
    // identity and the CA of the shippers' client certificates, and its client certificate to the sink.
    new ConfigMapV1(this, "config", {
      metadata: { name: "audit-collector-config", namespace: props.zone.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      data: { "audit-collector.conf": collectorConfig(sink) },
    });
    this.collector.addVolume("config", CONFIG_DIR, { configMap: "audit-collector-config" });
    this.collector.addVolume("tls", TLS_DIR, { secret: "audit-collector-tls" });
    this.collector.addVolume("sink-client-tls", SINK_CLIENT_DIR, { secret: "audit-collector-sink-client-tls" });
    this.collector.connections.allowTo(new ExternalPeer("audit-sink", "audit-sink", [`${sink.address}/32`]), sink.port, {
      purpose: `audit log forwarding (${sink.type}), retention ${props.env.auditLog.retentionDays} days`,
      mtls: true,
    });
  }

  /** `workload` ships its log to this site's collector. */
  ship(workload: HardenedWorkload): void {
    workload.addEnv("AUDIT_SYSLOG_ADDR", { value: `audit-collector.${this.collector.namespace}.svc:${AUDIT_PORT}` });
    workload.addVolume("audit-client-tls", AUDIT_CLIENT_TLS_DIR, { secret: `${workload.props.name}-audit-client-tls` });
    workload.addEnv("AUDIT_SYSLOG_CERT", { value: `${AUDIT_CLIENT_TLS_DIR}/tls.crt` });
    workload.addEnv("AUDIT_SYSLOG_KEY", { value: `${AUDIT_CLIENT_TLS_DIR}/tls.key` });
    workload.addEnv("AUDIT_SYSLOG_CA", { value: `${AUDIT_CLIENT_TLS_DIR}/ca.crt` });
    workload.connections.allowTo(this.collector, AUDIT_PORT, { purpose: "audit log (syslog over TLS)", mtls: true });
  }
}
