/**
 * The delegated OCSP responder's key pair is generated in the HSM (`pki-services keygen`); its
 * CSR is signed there too, and the issuing CA issues the certificate under its `ocsp-signing`
 * profile (OCSP signing EKU, id-pkix-ocsp-nocheck: RFC 6960 4.2.2.2, BR 7.1.2.8).
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { hsmWebCrypto } from "../pkcs11/webcrypto.js";
import type { Pkcs11Signer } from "../pkcs11/token.js";

/** PEM CSR for the responder key `signer`, subject as an RFC 4514 string. */
export async function responderCsr(signer: Pkcs11Signer, subject: string): Promise<string> {
  const w = await hsmWebCrypto(signer);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys: { privateKey: w.privateKey, publicKey: w.publicKey }, signingAlgorithm: w.signingAlgorithm },
    w.crypto,
  );
  return csr.toString("pem");
}
