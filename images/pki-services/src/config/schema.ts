/**
 * The contract between the IaC (environments/, synthesized into a ConfigMap) and the signing
 * services. The environment definitions import these schemas, and every service validates the
 * ConfigMap it is given with them at start: the profile the deployment declares is the profile
 * the CA enforces.
 */
import { z } from "zod";
import { serviceConfigProblems } from "./cp-rules.js";

/** Key algorithms allowed anywhere in this CA (BR 6.1.5: RSA ≥ 2048 and a multiple of 8;
 *  ECDSA on P-256, P-384 or P-521 only). CA keys are further limited by policy (RSA ≥ 3072). */
export const KEY_ALGORITHMS = ["RSA_2048", "RSA_3072", "RSA_4096", "ECDSA_P256", "ECDSA_P384", "ECDSA_P521"] as const;
export const KeyAlgorithm = z.enum(KEY_ALGORITHMS);
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

/** The kinds of certificate profile the CP/CPS defines. */
export const PROFILE_KINDS = [
  "ex-officio-signing", // government positions: officials sign internal approvals, e-Office documents
  "organisation-signing", // companies licensed by a ministry
  "tls-server",
  "smime",
  "operator-client", // trusted-role operators' mTLS client certificates
  "ocsp-signing", // delegated OCSP responder (RFC 6960 4.2.2.2)
  "time-stamping", // the time-stamping authority's certificate (RFC 3161 2.3)
] as const;
export const ProfileKind = z.enum(PROFILE_KINDS);
export type ProfileKind = z.infer<typeof ProfileKind>;

export const KEY_USAGES = [
  "digitalSignature",
  "nonRepudiation", // a.k.a. contentCommitment
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
] as const;
export const KeyUsage = z.enum(KEY_USAGES);
export type KeyUsage = z.infer<typeof KeyUsage>;

/** Extended key usages by name; the OIDs are in {@link EKU_OIDS}. */
export const EKU_OIDS = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  documentSigning: "1.3.6.1.4.1.311.10.3.12", // Microsoft Document Signing (e-Office clients)
  timeStamping: "1.3.6.1.5.5.7.3.8", // RFC 3161 2.3: the only EKU of a TSA certificate, critical
} as const;
export const ExtendedKeyUsage = z.enum(Object.keys(EKU_OIDS) as [keyof typeof EKU_OIDS, ...(keyof typeof EKU_OIDS)[]]);
export type ExtendedKeyUsage = z.infer<typeof ExtendedKeyUsage>;

/** Subject attributes a profile may allow, by short name. */
export const SUBJECT_ATTRIBUTES = [
  "CN",
  "O",
  "OU",
  "C",
  "L",
  "ST",
  "serialNumber",
  "title", // the government position for ex-officio certificates
  "organizationIdentifier", // business licence number for organisation certificates
  "E",
] as const;
export const SubjectAttribute = z.enum(SUBJECT_ATTRIBUTES);
export type SubjectAttribute = z.infer<typeof SubjectAttribute>;

const Oid = z.string().regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, "an OID in dotted form, e.g. 2.23.140.1.2.2");

/** A certificate profile: everything a certificate issued under it may contain. Deny by
 *  default: what is not listed here is refused by the pre-issuance lint. */
export const Profile = z.strictObject({
  kind: ProfileKind,
  description: z.string().min(1),
  /** Maximum validity in days (CP/CPS 6.3.2). No default: the CP decides. */
  maxValidityDays: z.number().int().positive(),
  /** Subject key algorithms accepted in a CSR under this profile (BR 6.1.5). */
  allowedKeyAlgorithms: z.array(KeyAlgorithm).min(1),
  keyUsage: z.array(KeyUsage).min(1),
  extendedKeyUsage: z.array(ExtendedKeyUsage).min(1),
  /** Certificate policy OIDs (RFC 5280 4.2.1.4), first the CP/CPS's own. Empty only for
   *  ocsp-signing (BR 7.1.2.8.8): the CP rules (config/cp-rules.ts) say which. */
  policyOids: z.array(Oid),
  subject: z.strictObject({
    /** Attributes that must be present. */
    required: z.array(SubjectAttribute),
    /** Attributes that may be present (the required ones are implied). Anything else is refused. */
    optional: z.array(SubjectAttribute),
    /** Country codes allowed in C (ISO 3166-1 alpha-2), e.g. ["LA"]. Empty: any. */
    countries: z.array(z.string().regex(/^[A-Z]{2}$/)).default([]),
  }),
  /** Subject alternative names allowed (RFC 5280 4.2.1.6). */
  subjectAltNames: z.strictObject({
    dns: z.boolean(),
    email: z.boolean(),
    /** Required at least one SAN entry (TLS: BR 7.1.2.7.12). */
    required: z.boolean(),
  }),
  /** Adds id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1); only for ocsp-signing. */
  ocspNoCheck: z.boolean().default(false),
});
export type Profile = z.infer<typeof Profile>;

/** What a signing service needs to find its key in the HSM. The PIN is never here: it is read
 *  from the file `pinFile`, the partition's Kubernetes Secret mounted read-only — never from an
 *  environment variable, which stays readable in /proc/<pid>/environ for the process's life. */
export const HsmBinding = z.strictObject({
  /** Path of the PKCS#11 library (vendor library in production, SoftHSM2 in dev and tests). */
  library: z.string().min(1),
  /** Token label of the partition that holds the key. */
  tokenLabel: z.string().min(1),
  /** Label of the key pair (CKA_LABEL) in that token. */
  keyLabel: z.string().min(1),
  /** Absolute path of the file holding the partition's user PIN (the mounted Secret's `pin`). */
  pinFile: z.string().regex(/^\//, "an absolute path, e.g. /etc/lanic-ca/hsm-pin/issuing/pin"),
});
export type HsmBinding = z.infer<typeof HsmBinding>;

/** When a CA's CRLs are published and how long they are valid (the environment states it, the
 *  policy checks it, the CRL publisher follows it). */
export const CrlSchedule = z.strictObject({
  /** How often a full CRL is published, in hours (BR 4.9.7: at least every 7 days). */
  intervalHours: z.number().positive(),
  /** nextUpdate − thisUpdate, in hours (BR 4.9.7: at most 10 days). */
  nextUpdateHours: z.number().positive(),
});

/** Whether a CA's status is served by OCSP, and the validity and refresh of its responses. */
export const OcspSchedule = z.strictObject({
  enabled: z.boolean(),
  /** Response validity in hours (BR 4.9.9: 8 hours to 10 days). */
  responseValidityHours: z.number().positive(),
  /** Responses are re-signed after this many hours (BR 4.9.9: before half their validity). */
  refreshHours: z.number().positive(),
});

/** The runtime configuration of one issuing CA, written by synth into a ConfigMap
 *  (`ca-config.json`) and read by `pki-services issuing-ca|crl-publisher|ocsp-responder`. */
export const IssuingCaServiceConfig = z
  .strictObject({
    /** The issuing CA's name in the environment, e.g. "lao-gov-issuing-ca-1". */
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
    environment: z.string().min(1),
    keyAlgorithm: KeyAlgorithm,
    hsm: HsmBinding,
    /** Public URLs placed in issued certificates (RFC 5280 4.2.2.1, 4.2.1.13). */
    urls: z.strictObject({
      caIssuers: z.url(),
      crl: z.url(),
      ocsp: z.url().optional(),
    }),
    crl: CrlSchedule,
    ocsp: OcspSchedule.extend({
      /** The delegated responder (RFC 6960 4.2.2.2): its key in the HSM (own partition and PIN
       *  variable when the environment puts OCSP keys apart) and its certificate (PEM), issued by
       *  this CA under its ocsp-signing profile. Required by `ocsp-responder --sign-only`. */
      responder: z
        .strictObject({
          hsm: HsmBinding,
          certificatePath: z.string().min(1),
          /** The responder key's algorithm (it is its own key, often not the CA's algorithm).
           *  @default the CA's keyAlgorithm */
          keyAlgorithm: KeyAlgorithm.optional(),
        })
        .optional(),
    }),
    /** Where the signers push what they sign (publish port 8443, mTLS). Optional: without it the
     *  CRL publisher only writes files. */
    publish: z
      .strictObject({
        /** e.g. https://repository.lanic-public.svc:8443 */
        repositoryUrl: z.url().optional(),
        /** e.g. https://ocsp.lanic-public.svc:8443 */
        ocspResponderUrl: z.url().optional(),
        /** Directory of the mounted client identity: tls.key, tls.crt and ca.crt (server CA). */
        clientTlsDir: z.string().min(1),
      })
      .optional(),
    /** Profiles this CA issues under, by name. */
    profiles: z.record(z.string().regex(/^[a-z0-9-]+$/), Profile),
    /** Subject CN of the RA's mTLS client certificate: the only caller allowed to issue/revoke. */
    raClientSubject: z.string().min(1),
    /** Path of the issuing CA's own certificate (PEM), mounted from the ceremony's output: the
     *  issuer name and authorityKeyIdentifier of every certificate come from it (RFC 5280
     *  4.1.2.4, 4.2.1.1). Optional in the contract; `pki-services issuing-ca` requires it (or
     *  `--ca-cert`). Added by the pki-services issue. */
    caCertificatePath: z.string().min(1).optional(),
  })
  // A hand-edited ConfigMap cannot widen the CP: the service refuses to start with a profile or
  // a URL the CP/CPS does not allow (config/cp-rules.ts), whatever the file says.
  .superRefine((config, ctx) => {
    for (const p of serviceConfigProblems(config)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  });
export type IssuingCaServiceConfig = z.infer<typeof IssuingCaServiceConfig>;

/** The runtime configuration of a time-stamping authority (RFC 3161), written by synth into a
 *  ConfigMap (`tsa-config.json`) and read by `pki-services tsa`. */
export const TsaServiceConfig = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  environment: z.string().min(1),
  keyAlgorithm: KeyAlgorithm,
  /** The TSA's own key (purpose time-stamping), granted to the TSA alone. */
  hsm: HsmBinding,
  /** The TSA certificate (PEM or DER), issued under the time-stamping profile. */
  certificatePath: z.string().min(1),
  /** CA certificates above it (PEM or DER), added to tokens when the request asks (certReq). */
  chainPaths: z.array(z.string().min(1)).default([]),
  /** The TSA policy OID in every token (TSTInfo.policy), from the CP's arc. */
  policyOid: Oid,
  /** Other reqPolicy values accepted (RFC 3161 2.4.1). */
  acceptedPolicies: z.array(Oid).default([]),
  /** Declared accuracy (RFC 3161 2.4.2); the TSA refuses to stamp when its clock's measured
   *  error exceeds it. */
  accuracy: z
    .strictObject({
      seconds: z.number().int().min(0).default(0),
      millis: z.number().int().min(0).max(999).default(0),
      micros: z.number().int().min(0).max(999).default(0),
    })
    .refine((a) => a.seconds + a.millis + a.micros > 0, "an accuracy of zero cannot be met: declare seconds, millis or micros"),
  /** The NTP sources in Laos the clock is checked against (SNTP, RFC 4330). */
  ntp: z.strictObject({
    sources: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(123) })).min(1),
    /** Seconds between measurements. @default 16 */
    intervalSeconds: z.number().int().positive().default(16),
  }),
});
export type TsaServiceConfig = z.infer<typeof TsaServiceConfig>;
