/**
 * The RA service's configuration (`ra-config.json`, mounted from a ConfigMap). Application kinds
 * follow the CP profiles: each kind names the issuing CA profile it is issued under, the
 * application fields it asks for (each mapped to a subject attribute or a subjectAltName type, or
 * kept in the RA only) and the evidence it needs. ADR 0060.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { KeyAlgorithm, SubjectAttribute } from "../config/schema.js";

const Label = z.strictObject({ en: z.string().min(1), lo: z.string().min(1) });

/** One application field. `maps` places it in the certificate; absent: kept in the RA only
 *  (e.g. the ministry that issued a business licence). */
export const RaField = z.strictObject({
  label: Label,
  required: z.boolean(),
  /** Subject attribute (RFC 5280 4.1.2.6) or subjectAltName type (RFC 5280 4.2.1.6) it fills. */
  maps: z.union([SubjectAttribute, z.enum(["san.dns", "san.email"])]).optional(),
  /** ECMAScript regular expression the whole value must match (anchored by the RA). */
  pattern: z.string().optional(),
  /** Upper bound in characters. @default 128 (RFC 5280 Appendix A bounds are checked by the CA) */
  maxLength: z.number().int().positive().default(128),
  /** A fixed value (e.g. C = LA): the applicant cannot change it. */
  fixed: z.string().optional(),
});
export type RaField = z.infer<typeof RaField>;

export const EVIDENCE_MEDIA_TYPES = ["application/pdf", "image/jpeg", "image/png"] as const;

export const RaKind = z.strictObject({
  label: Label,
  /** The issuing CA's profile name the certificate is issued under. */
  profile: z.string().regex(/^[a-z0-9-]+$/),
  /** Subject key algorithms the profile allows (BR 6.1.5): a CSR with another key is refused at
   *  submission, before anyone vets it. */
  allowedKeyAlgorithms: z.array(KeyAlgorithm).min(1),
  fields: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), RaField),
  /** Supporting documents (appointment letter, business licence), by type. */
  evidence: z.array(z.strictObject({ type: z.string().regex(/^[a-z][a-z0-9-]*$/), label: Label, required: z.boolean() })).default([]),
});
export type RaKind = z.infer<typeof RaKind>;
export type RaKindInput = z.input<typeof RaKind>;

export const RaServiceConfig = z.strictObject({
  environment: z.string().min(1),
  /** The issuing CA the RA calls (mTLS with the RA client certificate). */
  issuingCa: z.strictObject({
    /** e.g. https://issuing-ca-1.lanic-issuing.svc:8443 */
    url: z.url(),
    /** Directory of the RA client identity: tls.key, tls.crt and ca.crt (the CA's server CA). */
    clientTlsDir: z.string().min(1),
  }),
  /** The RA backend's own server identity (tls.key, tls.crt) and ca.crt: the CA of the client
   *  certificates it accepts (the RA frontend's and operators', issued under operator-client). */
  tlsDir: z.string().min(1),
  /** Subject CNs of the RA frontends: the only peers whose forwarded operator certificate
   *  (RFC 9440 Client-Cert header) is believed. */
  frontendClients: z.array(z.string().min(1)).min(1),
  /** certificatePolicies OID of the operator-client profile: an operator certificate without it
   *  gives no role. */
  operatorPolicyOid: z
    .string()
    .regex(/^[0-2](\.(0|[1-9][0-9]*))+$/)
    .optional(),
  kinds: z.record(z.string().regex(/^[a-z0-9-]+$/), RaKind),
  /** Maximum rows in one bulk CSV upload (10,000 in production). */
  bulkUploadMaxRows: z.number().int().positive(),
  /** Largest bulk CSV upload in bytes. @default 10 MiB */
  bulkUploadMaxBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  evidence: z.strictObject({
    /** Largest evidence file in bytes. @default 5 MiB */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
    /** Retention of evidence and application records (CP/CPS 5.5.2). No default: the CP decides. */
    retentionDays: z.number().int().positive(),
  }),
  /** Lifetime of an enrollment code in hours. @default 72 */
  enrollmentCodeHours: z.number().positive().default(72),
  /** Parallel issuance requests to the issuing CA. @default 8 */
  issuanceConcurrency: z.number().int().positive().default(8),
});
export type RaServiceConfig = z.infer<typeof RaServiceConfig>;
export type RaServiceConfigInput = z.input<typeof RaServiceConfig>;

/** Reads and validates ra-config.json; errors name the file and the field path. */
export function readRaConfig(path: string): RaServiceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const r = RaServiceConfig.safeParse(raw);
  if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return r.data;
}
