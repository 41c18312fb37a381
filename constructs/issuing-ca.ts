import { ConfigMapV1, Construct } from "./cdktf.js";
import type { IssuingCaServiceConfig } from "@lanic-ca/pki-services/config/schema";
import type { IssuingCa as IssuingCaDef } from "../environments/schema.js";
import { CrlPublisher } from "./crl-publisher.js";
import type { HardenedWorkload } from "./hardened-workload.js";
import { pinFilePath } from "./hsm-cluster.js";
import { stableStringify } from "./model.js";
import type { RegistrationAuthority } from "./registration-authority.js";
import { REPOSITORY_PUBLISH_PORT, type Repository } from "./repository.js";
import { CONFIG_DIR, pkiWorkload, type SiteContext } from "./site-context.js";
import { OCSP_PUBLISH_PORT, OCSP_PUBLISH_SERVICE, type ValidationAuthority } from "./validation-authority.js";

export const ISSUING_PORT = 8443;
/** Where the CA's own certificate is mounted (ConfigMap `issuing-ca-<ca>-certificate`, created
 *  by the IA operator from the intermediate ceremony's output; docs/runbooks/secrets.md). */
export const CA_CERT_DIR = "/etc/lanic-ca/ca-cert";
/** The issuing CA's mTLS server certificate and the CA of its clients (Secret `issuing-ca-<ca>-tls`). */
export const SERVER_TLS_DIR = "/etc/lanic-ca/tls";
/** The delegated OCSP responder certificate (ConfigMap `ocsp-responder-<ca>-certificate`). */
export const OCSP_CERT_DIR = "/etc/lanic-ca/ocsp-cert";
/** A signer's mTLS client identity for the publish ports (Secret `<workload>-client-tls`). */
export const CLIENT_TLS_DIR = "/etc/lanic-ca/client-tls";

export interface IssuingCaProps {
  readonly ca: IssuingCaDef;
  readonly ra: RegistrationAuthority;
  readonly repository: Repository;
  readonly va: ValidationAuthority;
}

/** The URLs a CA's certificates carry (RFC 5280 4.2.2.1 AIA, 4.2.1.13 CDP). */
export function caUrls(ctx: Pick<SiteContext, "env">, ca: string) {
  const base = ctx.env.repository.baseUrl.replace(/\/$/, "");
  return { caIssuers: `${base}/certs/${ca}.der`, crl: `${base}/crl/${ca}.crl` };
}

/** The runtime configuration of an issuing CA's services (the ConfigMap `ca-config-<ca>`). */
export function issuingCaServiceConfig(ctx: Pick<SiteContext, "env">, ca: IssuingCaDef): IssuingCaServiceConfig {
  const env = ctx.env;
  const partition = env.hsm.partitions.find((p) => p.name === ca.partition)!;
  const ocspPartition = env.hsm.partitions.find((p) => p.name === ca.ocsp.partition)!;
  const ocspKey = ocspPartition.keys.find((k) => k.label === ca.ocsp.keyLabel)!;
  return {
    name: ca.name,
    environment: env.name,
    keyAlgorithm: ca.keyAlgorithm,
    hsm: { library: env.hsm.pkcs11Library, tokenLabel: partition.tokenLabel, keyLabel: ca.keyLabel, pinFile: pinFilePath(ca.partition) },
    urls: { ...caUrls(ctx, ca.name), ...(ca.ocsp.enabled ? { ocsp: env.va.url } : {}) },
    crl: { ...ca.crl },
    ocsp: {
      enabled: ca.ocsp.enabled,
      responseValidityHours: ca.ocsp.responseValidityHours,
      refreshHours: ca.ocsp.refreshHours,
      ...(ca.ocsp.enabled
        ? {
            responder: {
              hsm: { library: env.hsm.pkcs11Library, tokenLabel: ocspPartition.tokenLabel, keyLabel: ca.ocsp.keyLabel, pinFile: pinFilePath(ca.ocsp.partition) },
              keyAlgorithm: ocspKey.algorithm,
              certificatePath: `${OCSP_CERT_DIR}/ocsp.pem`,
            },
          }
        : {}),
    },
    // Signers push over mTLS to the public zone's publish ports (never the other way round).
    publish: {
      repositoryUrl: `https://repository.lanic-ca-public.svc:${REPOSITORY_PUBLISH_PORT}`,
      ...(ca.ocsp.enabled ? { ocspResponderUrl: `https://${OCSP_PUBLISH_SERVICE}.lanic-ca-public.svc:${OCSP_PUBLISH_PORT}` } : {}),
      clientTlsDir: CLIENT_TLS_DIR,
    },
    profiles: Object.fromEntries(ca.profiles.map((p) => [p, env.profiles[p]])),
    raClientSubject: `lanic-ca-ra.${env.name}`,
    caCertificatePath: `${CA_CERT_DIR}/ca.pem`,
  };
}

/**
 * One issuing (intermediate) CA: the `issuing-ca` service in the issuing zone, reachable only
 * from the RA (mTLS), signing in the HSM; its CRL publisher; and, when OCSP is on, its OCSP
 * signer with the delegated responder key. All three read the same ConfigMap, generated from
 * the environment definition, so the profile the IaC declares is the profile the CA enforces.
 */
export class IssuingCa extends Construct {
  readonly service: HardenedWorkload;
  readonly crlPublisher: CrlPublisher;
  readonly ocspSigner?: HardenedWorkload;

  constructor(scope: Construct, id: string, ctx: SiteContext, props: IssuingCaProps) {
    super(scope, id);
    const ca = props.ca;
    const configMap = `ca-config-${ca.name}`;
    const config = issuingCaServiceConfig(ctx, ca);
    new ConfigMapV1(this, "config", {
      metadata: { name: configMap, namespace: ctx.zones.issuing.namespace, labels: { "app.kubernetes.io/part-of": "lanic-ca" } },
      data: { "ca-config.json": stableStringify(config) },
    });
    const configArg = `--config=${CONFIG_DIR}/ca-config.json`;
    // The client certificate's CN is the workload name: the publish ports admit `crl-publisher-*`
    // and `ocsp-signer-*` only.
    const mountClientTls = (w: HardenedWorkload) => w.addVolume("client-tls", CLIENT_TLS_DIR, { secret: `${w.props.name}-client-tls` });
    const mountConfig = (w: HardenedWorkload) => {
      w.addVolume("ca-config", CONFIG_DIR, { configMap });
      w.addVolume("ca-cert", CA_CERT_DIR, { configMap: `issuing-ca-${ca.name}-certificate` });
    };

    this.service = pkiWorkload(this, "service", ctx, {
      kind: "issuing-ca",
      name: `issuing-ca-${ca.name}`,
      zone: "issuing",
      // mTLS: only the RA's client certificate (CN raClientSubject) may issue or revoke.
      args: ["issuing-ca", configArg, `--listen=0.0.0.0:${ISSUING_PORT}`, `--tls-key=${SERVER_TLS_DIR}/tls.key`, `--tls-cert=${SERVER_TLS_DIR}/tls.crt`, `--client-ca=${SERVER_TLS_DIR}/ca.crt`],
      ports: [{ name: "https", port: ISSUING_PORT }],
      signing: true,
      ca: ca.name,
    });
    mountConfig(this.service);
    this.service.addVolume("tls", SERVER_TLS_DIR, { secret: `issuing-ca-${ca.name}-tls` });
    ctx.hsm.partition(ca.partition).grantSign(this.service, ca.keyLabel);
    ctx.database.grantReadWrite(this.service);
    props.ra.service.connections.allowTo(this.service, ISSUING_PORT, { purpose: `issue and revoke under ${ca.name}`, mtls: true });

    this.crlPublisher = new CrlPublisher(this, "crl", ctx, { ca, configArg });
    for (const w of this.crlPublisher.workloads) {
      mountConfig(w);
      mountClientTls(w);
      props.repository.grantPublish(w);
    }

    if (ca.ocsp.enabled) {
      this.ocspSigner = pkiWorkload(this, "ocsp-signer", ctx, {
        kind: "ocsp-signer",
        name: `ocsp-signer-${ca.name}`,
        zone: "issuing",
        args: ["ocsp-responder", "--sign-only", configArg],
        signing: true,
        ca: ca.name,
      });
      mountConfig(this.ocspSigner);
      mountClientTls(this.ocspSigner);
      this.ocspSigner.addVolume("ocsp-cert", OCSP_CERT_DIR, { configMap: `ocsp-responder-${ca.name}-certificate` });
      ctx.hsm.partition(ca.ocsp.partition).grantSign(this.ocspSigner, ca.ocsp.keyLabel);
      ctx.database.grantReadWrite(this.ocspSigner);
      props.va.grantPublish(this.ocspSigner);
      if (!ctx.standby)
        ctx.model.schedules.push({
          kind: "ocsp",
          ca: ca.name,
          intervalHours: ca.ocsp.refreshHours,
          validityHours: ca.ocsp.responseValidityHours,
          path: this.ocspSigner.node.path,
        });
    }
  }
}
