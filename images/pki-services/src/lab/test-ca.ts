/**
 * CA certificates for dev, lab and tests (production CA certificates come from the root key
 * ceremony): a root and issuing-CA certificate whose keys are in the token, made with
 * @peculiar/x509 through the HSM WebCrypto bridge. serial and notAfter are always stated.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { hsmWebCrypto } from "../pkcs11/webcrypto.js";
import type { Pkcs11Signer } from "../pkcs11/token.js";
import { randomSerial } from "../pki/serial.js";

export interface CreateCaOptions {
  /** RFC 4514 name, e.g. "CN=Lao Government Test Root CA,O=MTC,C=LA". */
  readonly subject: string;
  /** Key of the new CA (in the token). */
  readonly subjectSigner: Pkcs11Signer;
  /** The issuer: its certificate and key; absent for a self-signed root. */
  readonly issuer?: { readonly certificate: x509.X509Certificate; readonly signer: Pkcs11Signer };
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** RFC 5280 4.2.1.9 pathLenConstraint. No default: the CP decides. */
  readonly pathLength: number | undefined;
}

export async function createCaCertificate(o: CreateCaOptions): Promise<x509.X509Certificate> {
  const subject = await hsmWebCrypto(o.subjectSigner);
  const issuer = o.issuer ? await hsmWebCrypto(o.issuer.signer) : subject;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, o.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(subject.publicKey, false, subject.crypto),
  ];
  if (o.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(o.issuer.certificate, false, issuer.crypto));
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial().toString("hex"),
      subject: o.subject,
      issuer: o.issuer ? o.issuer.certificate.subject : o.subject,
      notBefore: o.notBefore,
      notAfter: o.notAfter,
      publicKey: subject.publicKey,
      signingKey: issuer.privateKey,
      signingAlgorithm: issuer.signingAlgorithm,
      extensions,
    },
    issuer.crypto,
  );
}
