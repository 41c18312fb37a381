/**
 * The PKI core, one place for each piece of X.509 the CA makes (ADR 0021):
 * serial numbers (serial.ts), names (names.ts), PEM/DER (pem.ts, der.ts), signature hash and
 * sign → verify (signature.ts; which algorithm a key signs with: pkcs11/algorithms.ts), key
 * identifiers (key-id.ts), the certificate builder and extension encoders (certificate.ts),
 * CA CRLs (crl.ts). CP limits: policy/cp-limits.ts at the repository root.
 */
export { parseCsr, csrToDer, subjectPublicKey, CsrError, type ParsedCsr, type CsrAttribute, type CsrExtension } from "./csr.js";
export { compileProfile, issuerCoverageProblems, issuerFromCertificate, type CompiledProfile, type IssuerInfo } from "./profile.js";
export { lintRequest, lintTbs, LintError, type LintedRequest, type RequestLintInput } from "./lint.js";
export { prepareCertificate, buildTbs, signCertificate, issuerPublicKey, type PreparedCertificate, type PrepareOptions, type TbsInput } from "./issue.js";
export { randomSerial, serialHex, SERIAL_BYTES } from "./serial.js";
export { encodeName, encodeDn, ATTRIBUTE_OIDS, type SubjectValue } from "./names.js";
export { toPem, fromPem, type PemLabel } from "./pem.js";
export { keyIdentifier, keyIdentifierOfBits, spkiPublicKeyBits, spkiSha256, sha256Hex } from "./key-id.js";
export { signatureHash, verifySignature, publicKeyObject, assembleSigned, splitSigned, signAndVerify, SignatureCheckError, type SignatureHash, type SignedParts } from "./signature.js";
export {
  buildTbsCertificate,
  buildCsrInfo,
  caExtensions,
  ext,
  extension,
  readTbsCertificate,
  EXT,
  ACCESS_METHOD,
  ANY_POLICY,
  ANY_EXTENDED_KEY_USAGE,
  KEY_USAGE_BITS,
  type TbsCertificateInput,
  type CaExtensionsInput,
  type KeyUsageName,
  type TbsFields,
} from "./certificate.js";
export { buildTbsCrl, CA_CRL_REASONS, type CaCrlReason, type TbsCrlInput } from "./crl.js";
export { VerifyPool, type SignatureVerifier } from "./verify-pool.js";
