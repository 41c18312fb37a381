/**
 * PEM (RFC 7468) for everything the CA writes and reads. The CRL label is `X509 CRL`
 * (RFC 7468 6): OpenSSL refuses `BEGIN CRL`, which @peculiar/x509 writes.
 */
export type PemLabel = "CERTIFICATE" | "X509 CRL" | "CERTIFICATE REQUEST" | "PUBLIC KEY";

/** DER → PEM: base64 in lines of 64 characters (RFC 7468 2). */
export function toPem(der: Uint8Array, label: PemLabel = "CERTIFICATE"): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

/** The DER of the first PEM block with `label`, or the input itself when it is DER (starts with
 *  a SEQUENCE). `what` names the input in the error (a file path). */
export function fromPem(input: string | Uint8Array, label: PemLabel, what = "input"): Buffer {
  const bytes = typeof input === "string" ? Buffer.from(input, "latin1") : Buffer.from(input);
  if (bytes[0] === 0x30) return bytes;
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(bytes.toString("latin1"));
  if (!m) throw new Error(`${what}: no PEM block "${label}" found (nor DER)`);
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}
