import { randomFillSync } from "node:crypto";

/** Bytes of CSPRNG output in a serial number. */
export const SERIAL_BYTES = 16;

/**
 * A fresh serial: 16 bytes from the CSPRNG with the top two bits fixed to 01, so the INTEGER is
 * positive, always 16 octets long (no sign octet, no leading zero) and below 2^159, with 126
 * random bits (BR 7.1.2.7: > 0, < 2^159, ≥ 64 bits of CSPRNG output; non-sequential).
 * Uniqueness is enforced by the database (primary key), never assumed.
 */
export function randomSerial(): Buffer {
  // CSPRNG output drawn in blocks (one randomFillSync per 256 serials); each serial is a copy.
  if (poolOffset + SERIAL_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = Buffer.from(pool.subarray(poolOffset, poolOffset + SERIAL_BYTES));
  pool.fill(0, poolOffset, poolOffset + SERIAL_BYTES); // never hand out the same bytes twice
  poolOffset += SERIAL_BYTES;
  b[0] = (b[0] & 0x3f) | 0x40;
  return b;
}
const pool = Buffer.alloc(SERIAL_BYTES * 256);
let poolOffset = pool.length;

export const serialHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
