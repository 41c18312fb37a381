/**
 * CA certificates for dev, lab and tests (production CA certificates come from the root key
 * ceremony): a root and issuing-CA certificate whose keys are in the token, made with the CA's
 * one certificate builder (pki/certificate.ts) and signed and verified like every other
 * certificate (pki/signature.ts signAndVerify). serial and notAfter are always stated.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { Pkcs11Signer } from "../pkcs11/token.js";
import { buildTbsCertificate, caExtensions, readTbsCertificate } from "../pki/certificate.js";
import { keyIdentifier } from "../pki/key-id.js";
import { encodeRdns, parseSimpleDn } from "../pki/names.js";
import { randomSerial } from "../pki/serial.js";
import { signAndVerify, splitSigned } from "../pki/signature.js";

export interface CreateCaOptions {
  /** RFC 4514 name of simple `attribute=value` pairs, e.g. "CN=Lao Government Test Root CA,O=MTC,C=LA". */
  readonly subject: string;
  /** Key of the new CA (in the token). */
  readonly subjectSigner: Pkcs11Signer;
  /** The issuer: its certificate and key; absent for a self-signed root. */
  readonly issuer?: { readonly certificate: x509.X509Certificate; readonly signer: Pkcs11Signer };
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** RFC 5280 4.2.1.9 pathLenConstraint. No default: the CP decides. */
  readonly pathLength: number | undefined;
  /** certificatePolicies (OIDs): every policy the CA's certificates assert (BR 7.1.2.10.5). */
  readonly policies?: readonly string[];
  /** extendedKeyUsage (OIDs) restricting the CA to its purpose (BR 7.1.2.10.6, MRSP 5.3). */
  readonly extendedKeyUsage?: readonly string[];
}

export async function createCaCertificate(o: CreateCaOptions): Promise<x509.X509Certificate> {
  const subject = encodeRdns(parseSimpleDn(o.subject));
  const signer = o.issuer?.signer ?? o.subjectSigner;
  const issuerName = o.issuer ? readTbsCertificate(splitSigned(Buffer.from(o.issuer.certificate.rawData)).tbs).subject : subject;
  const tbs = buildTbsCertificate({
    serial: randomSerial(),
    signatureAlgorithm: signer.signatureAlgorithm,
    issuer: issuerName,
    subject,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    spki: o.subjectSigner.spki,
    extensions: caExtensions({
      ca: { pathLength: o.pathLength },
      keyUsage: ["digitalSignature", "keyCertSign", "cRLSign"],
      subjectKeyId: keyIdentifier(o.subjectSigner.spki),
      authorityKeyId: o.issuer ? keyIdentifier(signer.spki) : undefined,
      policies: o.policies,
      extendedKeyUsage: o.extendedKeyUsage,
    }),
  });
  return new x509.X509Certificate(await signAndVerify("certificate", tbs, signer, signer.spki));
}
