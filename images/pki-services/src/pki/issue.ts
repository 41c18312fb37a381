/**
 * Certificate issuance, pure apart from the injected signer: prepare (lint the request, build
 * the TBSCertificate, lint the TBS) → [the caller stores serial + intent] → sign → verify the
 * signature and that the signed TBS bytes are the linted ones.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import type { Signer } from "../pkcs11/token.js";
import type { ParsedCsr } from "./csr.js";
import { bitString, children, ctxCons, ctxPrim, raw, readTlv, seq, time, tlv, TAG, uint } from "./der.js";
import { LintError, lintRequest, lintTbs, type LintedRequest } from "./lint.js";
import { encodeName, type SubjectValue } from "./names.js";
import { EXT, extension, spkiKeyFamily, type CompiledProfile } from "./profile.js";
import type { SignatureVerifier } from "./verify-pool.js";

export interface PreparedCertificate {
  readonly profile: string;
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: readonly SubjectValue[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
  /** The linted TBSCertificate: exactly these bytes get signed. */
  readonly tbs: Buffer;
}

export interface PrepareOptions {
  readonly serial: Buffer;
  /** Issuance time; notBefore (not backdated). @default new Date() */
  readonly now?: Date;
  readonly validityDays?: number;
}

/** Lints the CSR against the profile and builds + lints the TBSCertificate. Throws LintError. */
export function prepareCertificate(p: CompiledProfile, csr: ParsedCsr, options: PrepareOptions): PreparedCertificate {
  const linted = lintRequest(p, { csr, validityDays: options.validityDays });
  return buildPrepared(p, csr, linted, options);
}

export function buildPrepared(p: CompiledProfile, csr: ParsedCsr, linted: LintedRequest, options: PrepareOptions): PreparedCertificate {
  const now = options.now ?? new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  // RFC 5280 4.1.2.5: the period includes both ends, so N days end one second early.
  const notAfter = new Date(notBefore.getTime() + linted.validityDays * 86_400_000 - 1000);
  const tbs = buildTbs(p, {
    serial: options.serial,
    notBefore,
    notAfter,
    subjectDer: encodeName(linted.subject),
    spki: csr.spki,
    publicKeyBits: csr.publicKeyBits,
    dns: linted.dns,
    email: linted.email,
  });
  lintTbs(p, tbs, { serial: options.serial, notBefore, notAfter });
  return { profile: p.name, serial: options.serial, notBefore, notAfter, subject: linted.subject, dns: linted.dns, email: linted.email, tbs };
}

export interface TbsInput {
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectDer: Buffer;
  readonly spki: Buffer;
  readonly publicKeyBits: Buffer;
  readonly dns: readonly string[];
  readonly email: readonly string[];
}

/** RFC 5280 4.1: the TBSCertificate by concatenation of precomputed and per-certificate parts. */
export function buildTbs(p: CompiledProfile, i: TbsInput): Buffer {
  const family = spkiKeyFamily(i.spki);
  if (!family) throw new LintError(["subject public key is neither RSA nor ECDSA (BR 7.1.3.1)"]);
  const exts: Buffer[] = [p.constantExtensions[family]];
  if (p.includeSubjectKeyIdentifier) {
    // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
    exts.push(extension(EXT.subjectKeyIdentifier, false, tlv(TAG.OCTET_STRING, createHash("sha1").update(i.publicKeyBits).digest())));
  }
  if (i.dns.length || i.email.length) {
    const names = [...i.dns.map((d) => ctxPrim(2, Buffer.from(d, "latin1"))), ...i.email.map((m) => ctxPrim(1, Buffer.from(m, "latin1")))];
    // RFC 5280 4.2.1.6: critical when the subject is empty.
    exts.push(extension(EXT.subjectAltName, i.subjectDer.length === 2, seq(...names)));
  }
  return seq(
    p.versionDer,
    uint(i.serial),
    p.sigAlgAndIssuer,
    seq(time(i.notBefore), time(i.notAfter)),
    i.subjectDer,
    i.spki,
    ctxCons(3, seq(...exts)),
  );
}

export class SignatureCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureCheckError";
  }
}

/** Signs the prepared TBS, assembles the certificate, re-reads it and checks that the signed
 *  TBS bytes are the linted ones and that the signature verifies with the CA public key
 *  (`issuerKey` on this thread, or `verifier`, e.g. a VerifyPool holding the same key). */
export async function signCertificate(p: CompiledProfile, prepared: PreparedCertificate, signer: Signer, issuerKey: KeyObject, verifier?: SignatureVerifier): Promise<Buffer> {
  const signature = await signer.sign(prepared.tbs);
  const der = seq(prepared.tbs, p.signatureAlgorithm, bitString(signature));
  const [tbsT] = children(der, readTlv(der, 0));
  if (!raw(der, tbsT).equals(prepared.tbs)) throw new SignatureCheckError("the signed TBSCertificate differs from the linted one");
  const hash = signatureHash(p.signatureAlgorithm);
  if (!(verifier ? await verifier(hash, prepared.tbs, signature) : verify(hash, prepared.tbs, issuerKey, signature))) {
    throw new SignatureCheckError("the HSM signature does not verify with the CA public key; certificate discarded");
  }
  return der;
}

const SHA384_ALGS = [Buffer.from("300d06092a864886f70d01010c0500", "hex"), Buffer.from("300a06082a8648ce3d040303", "hex")];
const SHA512_ALG = Buffer.from("300a06082a8648ce3d040304", "hex");
/** The hash of a signature AlgorithmIdentifier this CA uses (sha256WithRSA, ecdsa-with-SHA256/384/512). */
function signatureHash(alg: Buffer): "sha256" | "sha384" | "sha512" {
  return SHA384_ALGS.some((a) => a.equals(alg)) ? "sha384" : SHA512_ALG.equals(alg) ? "sha512" : "sha256";
}

export const issuerPublicKey = (spki: Buffer): KeyObject => createPublicKey({ key: spki, format: "der", type: "spki" });

export function toPem(der: Buffer, label = "CERTIFICATE"): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}
