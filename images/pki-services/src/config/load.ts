/** Reading a ca-config.json (the issuing CA's configuration, also read by the CRL publisher and
 *  the OCSP signer). */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { IssuingCaServiceConfig } from "./schema.js";

export interface ConfigSource {
  readonly path: string;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

export function loadConfig(path: string): IssuingCaServiceConfig {
  return readConfigFile(path).config;
}

/** Reads and validates a ca-config.json, and returns with it the SHA-256 of the bytes read
 *  (audited as `config.loaded`). */
export function readConfigFile(path: string): { config: IssuingCaServiceConfig; source: ConfigSource } {
  let raw: unknown;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const r = IssuingCaServiceConfig.safeParse(raw);
  if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return { config: r.data, source: { path, sha256: createHash("sha256").update(bytes).digest("hex") } };
}
