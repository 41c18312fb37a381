/**
 * What the ceremony shell (run.ts) hands to each ceremony function (ceremonies/<type>.ts): the
 * parsed file, its resolved inputs and outputs, the transcript, the prompter, the HSM session
 * and the shared steps — the one lint → sign → verify → record step for certificates, CRLs and
 * CSRs, writing outputs (flag wx) and OpenSSL's checks. A ceremony function only says what it
 * makes; opening, quorum, transcript and finishing are the shell's.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, Name, SubjectKeyIdentifier } from "@peculiar/asn1-x509";
import type { KeyAlgorithm } from "@lanic-ca/pki-services/config/schema";
import type { Pkcs11Signer, Pkcs11Token } from "@lanic-ca/pki-services/pkcs11/index";
import { fromPem, keyIdentifier, readTbsCertificate, sha256Hex, signAndVerify, spkiSha256, splitSigned, toPem, type PemLabel } from "@lanic-ca/pki-services/pki/index";
import type { IssuerFacts } from "./lint.js";
import type { Prompter } from "./prompt.js";
import type { CeremonyFile, Subject } from "./schema.js";
import type { EntryKind, Transcript } from "./transcript.js";

export class CeremonyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CeremonyError";
  }
}

export const DAY = 86_400_000;

/** A CA certificate read from a ceremony input. */
export interface CertInfo {
  readonly der: Buffer;
  readonly tbs: Buffer;
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly spki: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectKeyId?: Buffer;
  readonly cert: Certificate;
}

export function readCertificateFile(path: string): CertInfo {
  const der = fromPem(readFileSync(path), "CERTIFICATE", path);
  const { tbs } = splitSigned(der);
  const f = readTbsCertificate(tbs);
  const cert = AsnConvert.parse(der, Certificate);
  const skiExt = cert.tbsCertificate.extensions?.find((e) => e.extnID === "2.5.29.14");
  return {
    der,
    tbs,
    subject: f.subject,
    issuer: f.issuer,
    spki: f.spki,
    cert,
    notBefore: cert.tbsCertificate.validity.notBefore.getTime(),
    notAfter: cert.tbsCertificate.validity.notAfter.getTime(),
    subjectKeyId: skiExt ? Buffer.from(AsnConvert.parse(skiExt.extnValue, SubjectKeyIdentifier).buffer) : undefined,
  };
}

/** The issuer as the linter sees it; refuses an HSM key that is not the certificate's. */
export function issuerFacts(c: CertInfo, signer: Pkcs11Signer): IssuerFacts {
  if (!signer.spki.equals(c.spki)) throw new CeremonyError(`the HSM key "${signer.label}" (SPKI SHA-256 ${spkiSha256(signer.spki)}) is not the key of the issuer certificate (SPKI SHA-256 ${spkiSha256(c.spki)})`);
  return { subject: c.subject, notAfter: c.notAfter, subjectKeyId: c.subjectKeyId ?? keyIdentifier(c.spki), signatureAlgorithm: signer.signatureAlgorithm };
}

export function nameValues(der: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const short: Record<string, string> = { "2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN" };
  for (const rdn of AsnConvert.parse(Buffer.from(der), Name)) for (const a of rdn) out[short[a.type] ?? a.type] = a.value.toString();
  return out;
}

export function sameSubject(der: Uint8Array, s: Subject): boolean {
  const v = nameValues(der);
  return v.C === s.C && v.O === s.O && v.CN === s.CN && v.OU === s.OU && Object.keys(v).length === Object.keys(s).filter((k) => (s as Record<string, unknown>)[k] !== undefined).length;
}

/** What the shared sign step records about the signed object (a transcript entry). */
export interface SignRecord {
  readonly kind: Extract<EntryKind, "certificate" | "crl" | "csr">;
  readonly summary: string;
  readonly data: Record<string, unknown>;
}

export interface SignRequest {
  /** "certificate", "CRL" or "CSR": named in the steps and errors. */
  readonly what: string;
  /** The to-be-signed bytes, exactly what gets signed. */
  readonly tbs: Buffer;
  /** Lint of the TBS bytes (lint.ts); a CSR is not linted (it names our own key). */
  readonly lint?: () => void;
  readonly signer: Pkcs11Signer;
  /** The key the signature must verify with (the issuer's; the CSR's own key). */
  readonly verifyWith: Buffer;
  /** What the transcript records, with the signed DER; its PEM is added. */
  readonly record: (der: Buffer) => SignRecord;
  readonly pemLabel: PemLabel;
}

export interface CeremonyContext<C extends CeremonyFile = CeremonyFile> {
  readonly file: C;
  /** Absolute path of the ceremony file. */
  readonly path: string;
  /** Input name (e.g. `inputs.issuerCertificate`, `quorum.register`) → absolute path, readable. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output name (e.g. `certificate`, `register`) → absolute path, absent before the run. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly transcript: Transcript;
  readonly prompter: Prompter;
  readonly now: () => Date;
  /** A line on the custodians' screen (not recorded). */
  say(text: string): void;
  /** A path of the file, relative to the ceremony folder, made absolute. */
  abs(p: string): string;
  /** The token's PIN (the quorum's activation secret offline, typed online); set by the shell,
   *  or by quorum-split once it has the secret. */
  pin: string | undefined;
  /** Opens the HSM token with `pin` (closed by the shell at the end). */
  openHsm(): Promise<Pkcs11Token>;
  /** Closes the token now (quorum-split proves the secret opens it, then closes it). */
  closeHsm(): void;
  /** A signer for an existing key, its SPKI SHA-256 shown and recorded. */
  signerFor(token: Pkcs11Token, label: string, algorithm: KeyAlgorithm): Promise<Pkcs11Signer>;
  /** The subject key from a CSR (proof of possession, subject as expected) or a public key file. */
  subjectKey(inp: { csr?: string; publicKey?: string }, expectedSubject: Subject | undefined, expectedAlgorithm: string): Promise<Buffer>;
  /** The signing time: now, to the second; fixed by the first `notBefore: signing-time`. */
  notBeforeOf(v: string): Date;
  readonly signingTime: Date;
  /** notAfter for `days` days from `notBefore`, inclusive (RFC 5280 4.1.2.5, BR 1.6.4). */
  validity(notBefore: Date, days: number): Date;
  /** lint → sign → verify → record: the one step every signed object goes through. */
  sign(r: SignRequest): Promise<Buffer>;
  /** Writes an output (flag wx), records its SHA-256 and shows it with OpenSSL when `kind` is set. */
  writeOut(name: string, data: string | Uint8Array, kind?: "x509" | "crl" | "req"): Promise<void>;
  /** `openssl verify -x509_strict -CAfile cafile cert`, recorded; refuses on failure. */
  opensslVerify(cafile: string, certPath: string): Promise<void>;
  /** `openssl crl -CAfile cafile -in crl`, recorded; refuses on failure. */
  opensslVerifyCrl(cafile: string, crlPath: string): Promise<void>;
  /** SPKI SHA-256 of the key generated or used (returned to the caller). */
  spkiSha256?: string;
}

/** The shared step, for the shell to bind to a transcript. */
export async function signStep(t: Transcript, r: SignRequest): Promise<Buffer> {
  if (r.lint) await t.step(`Linting the to-be-signed ${r.what}`, r.lint);
  const der = await t.step(`Signing with HSM key "${r.signer.label}", then verifying the signature and that the signed TBS is the linted TBS`, async () => {
    try {
      return await signAndVerify(r.what, r.tbs, r.signer, r.verifyWith);
    } catch (err) {
      throw new CeremonyError((err as Error).message);
    }
  });
  const rec = r.record(der);
  t.add(rec.kind, rec.summary, { ...rec.data, sha256: sha256Hex(der), pem: toPem(der, r.pemLabel) });
  return der;
}
