import type { TsaServiceConfig } from "@lanic-ca/pki-services/config/schema";
import { ConfigMapV1, Construct } from "./cdktf.js";
import type { TimeStamping } from "../environments/schema.js";
import { ExternalPeer } from "./connections.js";
import type { Database } from "./database.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pinFilePath } from "./hsm-cluster.js";
import { stableStringify } from "./model.js";
import { CONFIG_DIR, pkiWorkload, type SiteContext } from "./site-context.js";

export const TSA_PORT = 8080;
/** The TSA certificate and its chain (ConfigMap `tsa-<name>-certificate`, created by the IA
 *  operator from the issuing CA's output; docs/runbooks/secrets.md). */
export const TSA_CERT_DIR = "/etc/lanic-ca/tsa-cert";

/** The runtime configuration of the TSA (the ConfigMap `tsa-config-<name>`). */
export function tsaServiceConfig(ctx: Pick<SiteContext, "env">, tsa: TimeStamping): TsaServiceConfig {
  const env = ctx.env;
  const partition = env.hsm.partitions.find((p) => p.name === tsa.partition)!;
  return {
    name: tsa.name,
    environment: env.name,
    keyAlgorithm: tsa.keyAlgorithm,
    hsm: { library: env.hsm.pkcs11Library, tokenLabel: partition.tokenLabel, keyLabel: tsa.keyLabel, pinFile: pinFilePath(tsa.partition) },
    certificatePath: `${TSA_CERT_DIR}/tsa.pem`,
    chainPaths: [`${TSA_CERT_DIR}/chain.pem`],
    policyOid: tsa.policyOid,
    acceptedPolicies: [],
    accuracy: { ...tsa.accuracy },
    ntp: { sources: tsa.ntp.sources.map((s) => ({ host: s.address, port: s.port })), intervalSeconds: 16 },
  };
}

export interface TimeStampingAuthorityProps {
  readonly tsa: TimeStamping;
  /** The TSA's own store (token record and audit log) in its zone. */
  readonly store: Database;
}

/**
 * The time-stamping authority (RFC 3161) for signed e-Office documents: `pki-services tsa` in its
 * own zone, reachable on HTTP from the government network and LANIC's edge, signing with its own
 * key in the HSM (granted to it alone), recording every token in its own store (nothing it
 * exposes reaches the CA database), and checking its clock against NTP sources in Laos. HA at the
 * primary site, a warm standby at the backup site.
 */
export class TimeStampingAuthority extends Construct {
  readonly service: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext, props: TimeStampingAuthorityProps) {
    super(scope, id);
    const tsa = props.tsa;
    const configMap = `tsa-config-${tsa.name}`;
    new ConfigMapV1(this, "config", {
      metadata: { name: configMap, namespace: ctx.zones.timestamping.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      data: { "tsa-config.json": stableStringify(tsaServiceConfig(ctx, tsa)) },
    });
    this.service = pkiWorkload(this, "service", ctx, {
      kind: "tsa",
      name: `tsa-${tsa.name}`,
      zone: "timestamping",
      args: ["tsa", `--config=${CONFIG_DIR}/tsa-config.json`, `--listen=0.0.0.0:${TSA_PORT}`],
      ports: [{ name: "http", port: TSA_PORT }],
      // Relying parties and signers outside the government network reach it through LANIC's edge.
      internetFacing: true,
      signing: true,
      ca: tsa.ca,
    });
    this.service.addVolume("tsa-config", CONFIG_DIR, { configMap });
    this.service.addVolume("tsa-cert", TSA_CERT_DIR, { configMap: `tsa-${tsa.name}-certificate` });
    ctx.hsm.partition(tsa.partition).grantSign(this.service, tsa.keyLabel);
    props.store.grantReadWrite(this.service);
    this.service.connections.allowFrom(new ExternalPeer("government-network", "government-network", ctx.env.ra.governmentNetworks), TSA_PORT, {
      purpose: "time-stamp requests (RFC 3161 over HTTP) from the government network",
    });
    // Companies sign documents for the government too, and verifiers anywhere need tokens: the
    // TSA faces LANIC's edge like OCSP does (the token is signed; requests carry only a hash).
    this.service.connections.allowFrom(new ExternalPeer("internet", "internet", ["0.0.0.0/0"]), TSA_PORT, {
      purpose: "time-stamp requests (RFC 3161 over HTTP) through LANIC's edge",
    });
    for (const s of tsa.ntp.sources)
      this.service.connections.allowTo(new ExternalPeer(`ntp-${s.name}`, "ntp", [`${s.address}/32`]), s.port, {
        purpose: `clock check (SNTP, RFC 4330) against ${s.name} (${s.facility}, ${s.country})`,
        protocol: "UDP",
      });
  }
}
