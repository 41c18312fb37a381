export { parseCsr, csrToDer, CsrError, type ParsedCsr, type CsrAttribute, type CsrExtension } from "./csr.js";
export { compileProfile, issuerFromCertificate, EXT, type CompiledProfile, type IssuerInfo } from "./profile.js";
export { lintRequest, lintTbs, LintError, type LintedRequest, type RequestLintInput } from "./lint.js";
export { prepareCertificate, buildTbs, signCertificate, issuerPublicKey, toPem, SignatureCheckError, type PreparedCertificate, type PrepareOptions, type TbsInput } from "./issue.js";
export { randomSerial, serialHex, SERIAL_BYTES } from "./serial.js";
export { encodeName, ATTRIBUTE_OIDS, type SubjectValue } from "./names.js";
export { VerifyPool, type SignatureVerifier } from "./verify-pool.js";
