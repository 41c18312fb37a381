import { randomBytes } from "node:crypto";

/** Bytes of CSPRNG output in a serial number. */
export const SERIAL_BYTES = 16;

/**
 * A fresh serial: 16 bytes from the CSPRNG with the top two bits fixed to 01, so the INTEGER is
 * positive, always 16 octets long (no sign octet, no leading zero) and below 2^159, with 126
 * random bits (BR 7.1.2.7: > 0, < 2^159, ≥ 64 bits of CSPRNG output; non-sequential).
 * Uniqueness is enforced by the database (primary key), never assumed.
 */
export function randomSerial(): Buffer {
  const b = randomBytes(SERIAL_BYTES);
  b[0] = (b[0] & 0x3f) | 0x40;
  return b;
}

export const serialHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
