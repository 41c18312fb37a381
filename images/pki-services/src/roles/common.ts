/** Shared start-up of the issue-7 roles: PIN from the environment, token, TLS material. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HsmBinding, KeyAlgorithm } from "../config/schema.js";
import { Pkcs11Token, type Pkcs11Signer } from "../pkcs11/index.js";
import { fromPem } from "../pki/pem.js";
import type { MtlsClientIdentity } from "../repository/client.js";

/** A certificate file, PEM or DER (pki/pem.ts). */
export const readCertificate = (path: string): Buffer => fromPem(readFileSync(path), "CERTIFICATE", path);

/** Opens the token of `hsm` and returns a signer for its key (PIN from the env variable it names). */
export async function openSigner(hsm: HsmBinding, algorithm: KeyAlgorithm, poolSize = 4): Promise<{ token: Pkcs11Token; signer: Pkcs11Signer }> {
  const pin = process.env[hsm.pinEnv];
  if (!pin) throw new Error(`the HSM PIN is read from the environment variable ${hsm.pinEnv}, which is not set`);
  delete process.env[hsm.pinEnv]; // not inherited by anything we spawn
  const token = await Pkcs11Token.open({ library: hsm.library, tokenLabel: hsm.tokenLabel, pin, poolSize });
  try {
    return { token, signer: await token.signer(hsm.keyLabel, algorithm) };
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

/**
 * The publish port's server identity: explicit flags, else the mounted directory (tls.key,
 * tls.crt, ca.crt = the CA of the publishers' client certificates). Allowed client CNs: the flag,
 * else `defaults`; an entry ending in `*` is a prefix (the IaC names signers `ocsp-signer-<ca>`,
 * `crl-publisher-<ca>`). Undefined when no material is there.
 */
export function serverTls(
  v: { "tls-key"?: string; "tls-cert"?: string; "client-ca"?: string; "allowed-clients"?: string; "publish-tls-dir"?: string },
  defaults: string,
): { key: Buffer; cert: Buffer; clientCa: Buffer; allowedClients: string[] } | undefined {
  const dir = v["publish-tls-dir"];
  const key = v["tls-key"] ?? (dir ? join(dir, "tls.key") : undefined);
  const cert = v["tls-cert"] ?? (dir ? join(dir, "tls.crt") : undefined);
  const ca = v["client-ca"] ?? (dir ? join(dir, "ca.crt") : undefined);
  if (!key || !cert || !ca || ![key, cert, ca].every((f) => existsSync(f))) return undefined;
  return { key: readFileSync(key), cert: readFileSync(cert), clientCa: readFileSync(ca), allowedClients: (v["allowed-clients"] ?? defaults).split(",") };
}
