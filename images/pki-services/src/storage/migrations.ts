/**
 * The one set of SQL migrations, run unchanged on PostgreSQL (production, `pg`) and PGlite
 * (embedded default). Append only: a released migration is never edited.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly sql: string }[] = [
  {
    version: 1,
    name: "certificates and audit log",
    sql: `
CREATE TABLE certificates (
  serial            text PRIMARY KEY,          -- hex; the primary key makes reuse impossible (BR 7.1)
  ca_name           text NOT NULL,
  profile           text NOT NULL,
  -- intent: serial reserved and TBS linted, signature not yet stored (crash window)
  -- issued: certificate stored; revoked: revoked (also intents reconciled after a crash)
  -- failed: the signature was never obtained (HSM error), serial burnt
  status            text NOT NULL CHECK (status IN ('intent', 'issued', 'revoked', 'failed')),
  subject           text NOT NULL,
  tbs               bytea NOT NULL,            -- exactly what was (or may have been) signed
  not_before        timestamptz NOT NULL,
  not_after         timestamptz NOT NULL,
  der               bytea,
  created_at        timestamptz NOT NULL DEFAULT now(),
  issued_at         timestamptz,
  revoked_at        timestamptz,
  revocation_reason integer CHECK (revocation_reason IS NULL OR revocation_reason IN (0,1,2,3,4,5,6,8,9,10)),
  reconciled        boolean NOT NULL DEFAULT false,
  failure           text,
  CHECK ((status IN ('issued') AND der IS NOT NULL) OR status <> 'issued'),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX certificates_status ON certificates (ca_name, status);

CREATE TABLE audit_log (
  seq        bigint PRIMARY KEY,
  at         text NOT NULL,                    -- ISO 8601, hashed as written
  event      text NOT NULL,
  actor      text NOT NULL,
  details    jsonb NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);
-- One row: the chain head, locked by each append so writers from any process serialise.
CREATE TABLE audit_head (
  id    integer PRIMARY KEY CHECK (id = 1),
  seq   bigint NOT NULL,
  hash  text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${"0".repeat(64)}');
`,
  },
  {
    version: 2,
    name: "CRL numbers, invalidity dates, status-change index (crl-publisher, ocsp-responder)",
    sql: `
-- RFC 5280 5.3.2: invalidityDate of a CRL entry (when the key is known or suspected compromised).
ALTER TABLE certificates ADD COLUMN invalidity_date timestamptz;
-- The CRL publisher streams the revoked entries of one CA in serial order (RFC 5280 5.1.2.6).
CREATE INDEX certificates_revoked_serial ON certificates (ca_name, serial) WHERE status = 'revoked';
-- Revocations since a watermark (CRL within a minute, OCSP re-sign within a minute).
CREATE INDEX certificates_revoked_at ON certificates (ca_name, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_issued_at ON certificates (ca_name, issued_at) WHERE issued_at IS NOT NULL;
-- RFC 5280 5.2.3 cRLNumber: one row per CA, bumped in a transaction before each CRL is signed,
-- so a number is never reused (also when signing fails: the number is burnt).
CREATE TABLE crl_state (
  ca_name      text PRIMARY KEY,
  last_number  numeric(48,0) NOT NULL
);
-- Every CRL produced (metadata; the DER goes to the repository).
CREATE TABLE crls (
  ca_name      text NOT NULL,
  crl_number   numeric(48,0) NOT NULL,
  this_update  timestamptz NOT NULL,
  next_update  timestamptz NOT NULL,
  entries      bigint NOT NULL,
  sha256       text NOT NULL,
  size         bigint NOT NULL,
  PRIMARY KEY (ca_name, crl_number)
);
`,
  },
  {
    version: 3,
    name: "idempotency keys of issuance requests (the RA's application id, ADR 0061)",
    sql: `
ALTER TABLE certificates ADD COLUMN idempotency_key text;
-- SHA-256 of the request the key was first used with: the same key with another request is refused.
ALTER TABLE certificates ADD COLUMN request_sha256 text;
-- At most one live certificate per key: a failed attempt (no signature) and an intent reconciled
-- after a crash (possibly signed, revoked) free the key for the retry.
CREATE UNIQUE INDEX certificates_idempotency ON certificates (ca_name, idempotency_key) WHERE idempotency_key IS NOT NULL AND status <> 'failed' AND NOT reconciled;
`,
  },
  {
    version: 4,
    name: "time-stamp tokens (tsa)",
    sql: `
-- Every time-stamp token the TSA hands out (RFC 3161 2.4.2: serialNumber unique per TSA; the
-- primary key makes reuse impossible), kept as evidence with what it stamped.
CREATE TABLE tsa_tokens (
  serial          text PRIMARY KEY,
  tsa_name        text NOT NULL,
  policy          text NOT NULL,
  gen_time        timestamptz NOT NULL,
  hash_algorithm  text NOT NULL CHECK (hash_algorithm IN ('sha256', 'sha384', 'sha512')),
  imprint         text NOT NULL,
  nonce           text,
  token           bytea NOT NULL
);
CREATE INDEX tsa_tokens_gen_time ON tsa_tokens (tsa_name, gen_time);
`,
  },
];
