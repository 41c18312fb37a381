/**
 * Limits our CP/CPS sets where the reference texts leave a choice, or sets stricter than them.
 * One place, so a CP change is one diff. Each names where it comes from.
 */
export const CP_LIMITS = {
  /** CA keys (root and issuing): RSA ≥ 3072 by our CP (BR 6.1.5 allows 2048). */
  caRsaMinBits: 3072,
  /** Subscriber certificates: one year (the source documents), CP 6.3.2. */
  subscriberMaxValidityDays: 365,
  /** Root certificate validity (BR 7.1.2.1.1): 2922..9132 days. */
  rootValidityDays: { min: 2922, max: 9132 },
  /** Subordinate (issuing) CA certificates: at most 10 years (CP/CPS 6.3.2). */
  subordinateMaxValidityDays: 3653,
  /** Root keys (CP/CPS 6.1.5, within BR 6.1.5 and MRSP 5.1). */
  rootKeyAlgorithms: ["ECDSA_P384", "RSA_4096"],
  /** Subordinate CA keys (CP/CPS 6.1.5, within BR 6.1.5 and MRSP 5.1): RSA ≥ caRsaMinBits. */
  subordinateKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_3072", "RSA_4096"],
  /** Issuing CAs certify end entities only (CP/CPS 7.1.2): pathLenConstraint 0. */
  issuingCaPathLength: 0,
  /** CRL of an issuing CA (BR 4.9.7): publish at least every 7 days (4 without an AIA OCSP
   *  pointer); nextUpdate ≤ 10 days after thisUpdate (BR 7.2). */
  crlIntervalHours: { withOcsp: 7 * 24, withoutOcsp: 4 * 24 },
  crlNextUpdateMaxHours: 10 * 24,
  /** CRL of a CA issuing CA certificates (BR 4.9.7, 7.2): ≤ 12 months. */
  caCrlMaxDays: 365,
  /** OCSP response validity (BR 4.9.9): 8 h .. 10 days; refresh ≤ half the validity (our CP)
   *  and ≤ 4 days after thisUpdate (BR 4.9.9). */
  ocspValidityHours: { min: 8, max: 240 },
  ocspRefreshMaxHours: 96,
  /** Audit log retention (BR 5.4.3: ≥ 2 years; our CP: ≥ 7 years in production). */
  auditRetentionDays: { production: 2557, staging: 730 },
  /** Archive period (RFC 3647 5.5.2; BR 5.5.2: ≥ 2 years after the records were last relied
   *  upon): database backups (base backups and WAL archive) are kept this long. Our CP: 7 years
   *  in production, like the audit log, 2 years in staging. */
  archiveRetentionDays: { production: 2557, staging: 730 },
  /** Audit log integrity check (NCSSR 3.1.2): at least every 31 days. */
  auditIntegrityMaxDays: 31,
  /** Backup site at least this far from the primary (BR 5.7.1.1 (14); our CP). */
  backupSiteMinDistanceKm: 100,
  /** Recovery objectives in production (BR 5.7.1.1 (8); our CP). */
  rpoMaxMinutes: 60,
  rtoMaxHours: 24,
  /** Data residency (source documents): production sites in Laos. */
  residencyCountry: "LA",
  /** Custodian quorum for the root key (BR 5.2.2, 6.2.2): M ≥ 2 of N ≥ M + 1. */
  custodianMinQuorum: 2,
  /** Exceptions: at most this far ahead; reason at least this long. */
  exceptionMaxDays: 180,
  exceptionMinReason: 20,
} as const;

/** The dates from which BR 6.3.2 lowers the TLS maximum validity. */
export const BR_TLS_REDUCTIONS = ["2026-03-15", "2027-03-15", "2029-03-15"] as const;

/** How long before a BR 6.3.2 reduction the policy warns (LCA-VAL-03). */
export const TLS_REDUCTION_NOTICE_DAYS = 90;

/** BR 6.3.2: maximum validity of a TLS subscriber certificate issued on a date: the signing
 *  services' own rule (config/cp-rules.ts), so the policy and the services cannot disagree. */
export { brTlsMaxValidityDays } from "@lanic-ca/pki-services/config/cp-rules";
