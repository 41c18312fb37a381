/**
 * Certificate issuance, pure apart from the injected signer: prepare (lint the request, build
 * the TBSCertificate, lint the TBS) → [the caller stores serial + intent] → sign → verify the
 * signature and that the signed TBS bytes are the linted ones.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import type { Signer } from "../pkcs11/token.js";
import { buildTbsCertificate, ext } from "./certificate.js";
import type { ParsedCsr } from "./csr.js";
import { keyIdentifierOfBits } from "./key-id.js";
import { LintError, lintRequest, lintTbs, type LintedRequest } from "./lint.js";
import { encodeName, type SubjectValue } from "./names.js";
import { spkiKeyFamily, type CompiledProfile } from "./profile.js";
import { signAndVerify } from "./signature.js";
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

/** RFC 5280 4.1: the TBSCertificate of a subscriber: the profile's constant extensions, then the
 *  subjectKeyIdentifier (key-id.ts) and subjectAltName of this subscriber. */
export function buildTbs(p: CompiledProfile, i: TbsInput): Buffer {
  const family = spkiKeyFamily(i.spki);
  if (!family) throw new LintError(["subject public key is neither RSA nor ECDSA (BR 7.1.3.1)"]);
  const exts: Buffer[] = [p.constantExtensions[family]];
  if (p.includeSubjectKeyIdentifier) exts.push(ext.subjectKeyIdentifier(keyIdentifierOfBits(i.publicKeyBits)));
  if (i.dns.length || i.email.length) exts.push(ext.subjectAltName(i.dns, i.email, i.subjectDer.length === 2));
  return buildTbsCertificate({
    serial: i.serial,
    signatureAlgorithm: p.signatureAlgorithm,
    issuer: p.issuer.subjectDer,
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    subject: i.subjectDer,
    spki: i.spki,
    extensions: exts,
  });
}

/** Signs the prepared TBS (signature.ts signAndVerify): the signed TBS bytes must be the linted
 *  ones and the signature must verify with the CA public key (`issuerKey` on this thread, or
 *  `verifier`, e.g. a VerifyPool holding the same key). */
export function signCertificate(p: CompiledProfile, prepared: PreparedCertificate, signer: Signer, issuerKey: KeyObject, verifier?: SignatureVerifier): Promise<Buffer> {
  return signAndVerify("certificate", prepared.tbs, { sign: (tbs) => signer.sign(tbs), signatureAlgorithm: p.signatureAlgorithm }, issuerKey, verifier);
}

export const issuerPublicKey = (spki: Buffer): KeyObject => createPublicKey({ key: spki, format: "der", type: "spki" });
