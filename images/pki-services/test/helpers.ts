import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temp dir removed by the returned cleanup (tests call it in afterAll). */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pki-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A kubernetes.io/tls Secret as mounted (tls.key, tls.crt, ca.crt) in `dir`, created. */
export function writeTlsDir(dir: string, files: { key: Buffer; cert: Buffer; ca: Buffer }): string {
  mkdirSync(dir);
  writeFileSync(join(dir, "tls.key"), files.key);
  writeFileSync(join(dir, "tls.crt"), files.cert);
  writeFileSync(join(dir, "ca.crt"), files.ca);
  return dir;
}

export { freePort } from "../src/lab/ports.js";
