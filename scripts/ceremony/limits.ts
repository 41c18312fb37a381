/** The ceremony limits, with their sources: enforced on ceremony files (schema.ts), on the bytes
 *  about to be signed (lint.ts) and by the CP/CPS policy on the environment (LCA-CER-01). No zod
 *  here: the policy gate runs on the `lanic-ca` main thread (ADR 0055). */
export const LIMITS = {
  /** BR 7.1.2.1.1: a root certificate's validity is 2922 to 9132 days. */
  rootValidityDays: { min: 2922, max: 9132 },
  /** CP/CPS 6.3.2: subordinate (issuing) CA certificates at most 10 years. */
  subordinateValidityDays: { max: 3653 },
  /** BR 4.9.7: a CA that issues CA certificates publishes a CRL at least every 12 months. */
  caCrlNextUpdateDays: { max: 365 },
  /** CP/CPS 4.9.9: a delegated OCSP responder certificate (id-pkix-ocsp-nocheck) is short-lived. */
  ocspSignerValidityDays: { max: 365 },
  /** CP/CPS 6.1.5 (within BR 6.1.5 and MRSP 5.1): root keys. */
  rootKeyAlgorithms: ["ECDSA_P384", "RSA_4096"] as const,
  /** CP/CPS 6.1.5 (within BR 6.1.5 and MRSP 5.1): subordinate CA keys (RSA ≥ 3072). */
  subordinateKeyAlgorithms: ["ECDSA_P256", "ECDSA_P384", "RSA_3072", "RSA_4096"] as const,
  /** CP/CPS 7.1.2: issuing CAs certify end entities only. */
  issuingCaPathLength: 0,
  /** BR 5.2.2 / 6.2.2: multi-person (at least dual) control of CA private keys. */
  minQuorum: 2,
} as const;

/** BR 7.1.2.10.6: key purposes a CA certificate that asserts serverAuth MUST NOT carry. */
export const EKU_FORBIDDEN_WITH_SERVER_AUTH = ["codeSigning", "emailProtection", "timeStamping", "ocspSigning"] as const;
