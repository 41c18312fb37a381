/** The part every certificate ceremony shares: build the TBS with the one certificate builder
 *  (pki/certificate.ts), then the shared lint → sign → verify → record step. */
import type { Pkcs11Signer } from "@lanic-ca/pki-services/pkcs11/index";
import { buildTbsCertificate, caExtensions, randomSerial, readTbsCertificate, spkiSha256, type CaExtensionsInput } from "@lanic-ca/pki-services/pki/index";
import { nameValues, type CeremonyContext } from "../context.js";
import { lintTbsCertificate, type CertKind, type IssuerFacts } from "../lint.js";

export interface CertificateRequest extends CaExtensionsInput {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly spki: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export function certify(x: CeremonyContext, r: CertificateRequest, signer: Pkcs11Signer, lint: { kind: CertKind; issuer: IssuerFacts; pathLength: number | undefined; allowedKeys: readonly string[] }): Promise<Buffer> {
  const serial = randomSerial();
  const tbs = buildTbsCertificate({
    serial,
    signatureAlgorithm: signer.signatureAlgorithm,
    issuer: r.issuer,
    subject: r.subject,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    spki: r.spki,
    extensions: caExtensions(r),
  });
  return x.sign({
    what: "certificate",
    tbs,
    signer,
    verifyWith: signer.spki,
    pemLabel: "CERTIFICATE",
    lint: () => lintTbsCertificate(tbs, { ...lint, signingTime: x.signingTime }),
    record: () => {
      const f = readTbsCertificate(tbs);
      return {
        kind: "certificate",
        summary: `certificate ${nameValues(f.subject).CN} (serial ${f.serial.toString("hex")})`,
        data: { subject: nameValues(f.subject), issuer: nameValues(f.issuer), serial: f.serial.toString("hex"), notBefore: r.notBefore.toISOString(), notAfter: r.notAfter.toISOString(), spkiSha256: spkiSha256(f.spki) },
      };
    },
  });
}
