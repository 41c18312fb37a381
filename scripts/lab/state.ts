/**
 * LAB ONLY — what `lanic-ca lab up` made and runs, kept in `<lab dir>/lab.json`: the ports chosen
 * at the first `up` (the certificates' AIA, CRL and OCSP URLs name them, so they never change
 * afterwards), the files, the operator PKCS#12 files and the processes started.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LAB_STATE_FILE = "lab.json";

export interface LabProcess {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** The URL a newcomer opens or a client calls. */
  readonly url?: string;
}

export interface LabOperator {
  readonly role: string;
  readonly name: string;
  readonly p12: string;
  readonly serial: string;
}

export interface LabState {
  readonly version: 1;
  readonly environment: string;
  /** The issuing CA the lab runs (its CRL is `/crl/<name>.crl` in the repository). */
  readonly issuingCa: string;
  readonly createdAt: string;
  readonly ports: {
    readonly repository: number;
    readonly repositoryPublish: number;
    readonly ocsp: number;
    readonly ocspPublish: number;
    readonly issuingCa: number;
  } & Record<string, number>;
  readonly files: {
    readonly caConfig: string;
    readonly caDatabase: string;
    readonly rootCert: string;
    readonly issuingCaCert: string;
    /** Issuing CA + root, PEM: what `openssl verify -CAfile` needs. */
    readonly chain: string;
    /** The RA's client identity towards the issuing CA (tls.key, tls.crt, ca.crt). */
    readonly raClientTls: string;
  };
  readonly operators: readonly LabOperator[];
  processes: LabProcess[];
}

export function readLabState(dir: string): LabState {
  const file = join(dir, LAB_STATE_FILE);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LabState;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message} (run \`lanic-ca lab up\` first)`);
  }
}

export function writeLabState(dir: string, s: LabState): void {
  const file = join(dir, LAB_STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
