/** Shared start-up of the issue-7 roles: PIN from the environment, token, TLS material. */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HsmBinding, KeyAlgorithm } from "../config/schema.js";
import { Pkcs11Token, type Pkcs11Signer } from "../pkcs11/index.js";
import { fromPem } from "../pki/pem.js";
import type { MtlsClientIdentity } from "../repository/client.js";
import { SyslogShipper, syslogTargetFromEnv } from "../audit/syslog.js";

/** A certificate file, PEM or DER (pki/pem.ts); the error names the file and `what` it is for. */
export function readCertificate(path: string, what = "certificate"): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (err) {
    throw new Error(`the ${what} file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const der = fromPem(b, "CERTIFICATE", path);
    new X509Certificate(der);
    return der;
  } catch (err) {
    throw new Error(`the ${what} file ${path} is not a certificate (PEM or DER): ${(err as Error).message}`);
  }
}

/** A file the role needs, read with an error that names it and the flag it came from. */
export function readNamedFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A TLS key and certificate that belong together, else an error naming both files. */
export function tlsPair(keyPath: string, certPath: string, flags = ["--tls-key", "--tls-cert"]): { key: Buffer; cert: Buffer } {
  const key = readNamedFile(keyPath, flags[0]);
  const cert = readNamedFile(certPath, flags[1]);
  let x: X509Certificate;
  let k: KeyObject;
  try {
    k = createPrivateKey(key);
  } catch (err) {
    throw new Error(`${flags[0]} ${keyPath} is not a private key: ${(err as Error).message}`);
  }
  try {
    x = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${flags[1]} ${certPath} is not a certificate: ${(err as Error).message}`);
  }
  if (!x.checkPrivateKey(k)) throw new Error(`the TLS key ${keyPath} does not match the certificate ${certPath} (${x.subject.replace(/\n/g, ", ")})`);
  return { key, cert };
}

/** A duration flag in seconds: a finite number ≥ `min`. */
export function seconds(flag: string, value: string | undefined, min = 0): number {
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number of seconds ≥ ${min}, not '${value}'`);
  return n;
}

/** A positive integer flag (pool sizes, worker counts). */
export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new Error(`${flag} must be a positive integer, not '${value}'`);
  return n;
}

/** The partition's user PIN from its mounted Secret file (`hsm.pinFile`; one trailing newline
 *  dropped). Never from the environment: /proc/<pid>/environ keeps what a process started with. */
export function readPin(hsm: HsmBinding): string {
  let pin: string;
  try {
    pin = readFileSync(hsm.pinFile, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new Error(`the PIN of token "${hsm.tokenLabel}" is read from ${hsm.pinFile} (hsm.pinFile, the mounted Secret), which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pin) throw new Error(`the PIN file ${hsm.pinFile} of token "${hsm.tokenLabel}" is empty`);
  return pin;
}

/** Opens the token of `hsm` and returns a signer for its key (PIN from its mounted file). */
export async function openSigner(hsm: HsmBinding, algorithm: KeyAlgorithm, poolSize = 4): Promise<{ token: Pkcs11Token; signer: Pkcs11Signer }> {
  const pin = readPin(hsm);
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

/** HOST:PORT of a --listen flag (IPv6 in brackets), port 0..65535. */
export function hostPort(s: string, flag = "--listen"): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new Error(`${flag} '${s}' is not HOST:PORT (e.g. 0.0.0.0:8443, [::1]:8443; port 0 to 65535)`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

let shipper: SyslogShipper | undefined | null = null;
/** A log line on stdout, and to the audit collector when the deployment names one (ADR 0036). */
export const log = (line: Record<string, unknown>): void => {
  const text = JSON.stringify({ at: new Date().toISOString(), ...line });
  console.log(text);
  if (shipper === null) {
    const target = syslogTargetFromEnv();
    shipper = target && new SyslogShipper(target);
  }
  shipper?.send(text);
};

/** A listen error as the operator needs it: the address and why (EADDRINUSE, EACCES, ...). */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const why = err.code === "EADDRINUSE" ? "the address is already in use" : err.code === "EACCES" ? "permission denied" : err.code === "EADDRNOTAVAIL" ? "no such local address" : err.message;
  return new Error(`cannot listen on ${host}:${port}: ${why}${err.code ? ` (${err.code})` : ""}`);
}

/** A start that fails once the audit log is open is recorded as `service.start.failed` with the
 *  reason, never left as a `service.start` without a stop (BR 5.4.1: start-up and shutdown of
 *  the logging functions). The audit write itself failing must not hide the start's error. */
export async function auditFailedStart(
  audit: { append(event: "service.start.failed", actor: string, details: Record<string, unknown>): Promise<unknown> },
  actor: string,
  details: Record<string, unknown>,
  err: unknown,
): Promise<void> {
  const reason = ((err as Error)?.message ?? String(err)).slice(0, 500);
  await audit.append("service.start.failed", actor, { ...details, reason }).catch(() => undefined);
}

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
