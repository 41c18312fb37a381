/** Shared start-up of the issue-7 roles: PIN from the environment, token, TLS material. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { IssuingCaServiceConfig, KeyAlgorithm } from "../config/schema.js";
import { Pkcs11Token, type Pkcs11Signer } from "../pkcs11/index.js";
import type { MtlsClientIdentity } from "../repository/client.js";

export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("not a PEM certificate");
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

export function readCertificate(path: string): Buffer {
  const b = readFileSync(path);
  return b[0] === 0x30 ? b : pemToDer(b.toString("utf8"));
}

/** Opens the token named by the config and returns a signer for `label` (PIN from env). */
export async function openSigner(config: IssuingCaServiceConfig, label: string, algorithm: KeyAlgorithm, poolSize = 4): Promise<{ token: Pkcs11Token; signer: Pkcs11Signer }> {
  const pin = process.env[config.hsm.pinEnv];
  if (!pin) throw new Error(`the HSM PIN is read from the environment variable ${config.hsm.pinEnv}, which is not set`);
  delete process.env[config.hsm.pinEnv];
  const token = await Pkcs11Token.open({ library: config.hsm.library, tokenLabel: config.hsm.tokenLabel, pin, poolSize });
  try {
    return { token, signer: await token.signer(label, algorithm) };
  } catch (err) {
    token.close();
    throw err;
  }
}

/** tls.key, tls.crt and ca.crt of a mounted kubernetes.io/tls Secret (+ CA). */
export function clientTls(dir: string): MtlsClientIdentity {
  return { key: readFileSync(join(dir, "tls.key")), cert: readFileSync(join(dir, "tls.crt")), ca: readFileSync(join(dir, "ca.crt")) };
}

export function hostPort(s: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(s);
  if (!m) throw new Error(`'${s}' is not HOST:PORT`);
  return { host: m[1], port: Number(m[2]) };
}

export const log = (line: Record<string, unknown>): void => console.log(JSON.stringify({ at: new Date().toISOString(), ...line }));

export function onStop(fn: () => Promise<void>): void {
  const stop = () => void fn().finally(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
