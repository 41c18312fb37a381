/** The ceremony types, in the order of the schema's union (scripts/ceremony/schema.ts; a test
 *  holds them equal). */
export const CEREMONY_TYPES = [
  "quorum-split",
  "root-key",
  "root-certificate",
  "intermediate",
  "cross-certificate",
  "ca-crl",
  "issuing-ca-key",
  "external-csr",
  "external-certificate-import",
  "key-backup",
  "key-restore",
] as const;
