/**
 * The delegated OCSP responder's key pair is generated in the HSM (`pki-services keygen`); its
 * CSR is signed there too (the PKI core's CSR builder and sign → verify, ADR 0021), and the
 * issuing CA issues the certificate under its `ocsp-signing` profile (OCSP signing EKU,
 * id-pkix-ocsp-nocheck: RFC 6960 4.2.2.2, BR 7.1.2.8).
 */
import type { Pkcs11Signer } from "../pkcs11/token.js";
import { buildCsrInfo } from "../pki/certificate.js";
import { encodeRdns, parseSimpleDn } from "../pki/names.js";
import { toPem } from "../pki/pem.js";
import { signAndVerify } from "../pki/signature.js";

/** PEM CSR for the responder key `signer`, subject as "CN=…,O=…,C=…" (in that order). */
export async function responderCsr(signer: Pkcs11Signer, subject: string): Promise<string> {
  const der = await signAndVerify("CSR", buildCsrInfo(encodeRdns(parseSimpleDn(subject)), signer.spki), signer, signer.spki);
  return toPem(der, "CERTIFICATE REQUEST");
}
