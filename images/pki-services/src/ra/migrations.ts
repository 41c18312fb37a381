/**
 * The RA store's migrations, run unchanged on PostgreSQL and PGlite after the shared ones
 * (storage/migrations.ts: the audit log). Versions 1001+ so they never meet the CA's numbers in
 * schema_migrations. Append only. ADR 0060.
 */
export const RA_MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly sql: string }[] = [
  {
    version: 1001,
    name: "RA applications, batches, evidence",
    sql: `
CREATE TABLE ra_batches (
  id           text PRIMARY KEY,
  sha256       text NOT NULL UNIQUE,           -- the same file uploaded twice creates nothing twice
  kind         text NOT NULL,
  filename     text NOT NULL,
  rows         integer NOT NULL,
  accepted     integer NOT NULL,
  problems     jsonb NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ra_applications (
  id                     text PRIMARY KEY,
  kind                   text NOT NULL,
  state                  text NOT NULL CHECK (state IN ('submitted', 'in_review', 'accepted', 'approved', 'issued', 'delivered', 'returned', 'rejected', 'withdrawn', 'expired', 'revoked')),
  fields                 jsonb NOT NULL,
  csr                    text,
  submitted_by           text NOT NULL,
  officer                text,                  -- identity of the vetting officer who accepted it
  approver               text,                  -- identity of the vetting approver (never the officer)
  reason                 text,                  -- why it was returned, rejected, withdrawn or revoked
  batch_id               text REFERENCES ra_batches (id),
  batch_row              integer,
  renewal_of             text REFERENCES ra_applications (id),
  access_hash            text,                  -- SHA-256 of the applicant's access token
  enrollment_hash        text UNIQUE,           -- SHA-256 of the one-time enrollment code
  enrollment_expires_at  timestamptz,
  enrollment_used_at     timestamptz,
  revocation_hash        text,                  -- SHA-256 of the subscriber's revocation secret
  serial                 text UNIQUE,
  certificate            text,
  not_after              timestamptz,
  revocation_reason      text,
  issue_error            text,                  -- the issuing CA refused it (lint): not retried
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  approved_at            timestamptz,
  issued_at              timestamptz,
  UNIQUE (batch_id, batch_row),
  CHECK (state NOT IN ('approved', 'issued', 'delivered', 'revoked') OR (officer IS NOT NULL AND approver IS NOT NULL AND officer <> approver)),
  CHECK (state NOT IN ('issued', 'delivered', 'revoked') OR (serial IS NOT NULL AND certificate IS NOT NULL))
);
CREATE INDEX ra_applications_state ON ra_applications (state, created_at);
CREATE INDEX ra_applications_batch ON ra_applications (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX ra_applications_not_after ON ra_applications (not_after) WHERE state IN ('issued', 'delivered');
CREATE INDEX ra_applications_approved_at ON ra_applications (approved_at) WHERE approved_at IS NOT NULL;
CREATE TABLE ra_evidence (
  id              text PRIMARY KEY,
  application_id  text NOT NULL REFERENCES ra_applications (id),
  type            text NOT NULL,
  media_type      text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  filename        text NOT NULL,
  size            integer NOT NULL,
  sha256          text NOT NULL,
  content         bytea NOT NULL,
  uploaded_by     text NOT NULL,
  uploaded_at     timestamptz NOT NULL DEFAULT now(),
  retain_until    timestamptz NOT NULL       -- CP/CPS 5.5.2 retention
);
CREATE INDEX ra_evidence_application ON ra_evidence (application_id);
`,
  },
];
