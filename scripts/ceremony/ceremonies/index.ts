/**
 * One function per ceremony type. The shell (../run.ts) parses and checks the file, opens the
 * transcript, gathers the quorum, and then calls the function of the file's type with a
 * CeremonyContext (../context.ts); it closes the HSM and finishes the transcript after.
 *
 * Adding a type: its zod schema in ../schema.ts (and its name in ../types.ts), its limits in
 * limitProblems, a file here with `async function (x: CeremonyContext<TheType>)`, and one line
 * below — the compiler refuses a type without its function (docs/runbooks/key-ceremony.md).
 */
import type { CeremonyContext } from "../context.js";
import type { CeremonyFile, CeremonyType } from "../schema.js";
import { caCrl } from "./ca-crl.js";
import { crossCertificate } from "./cross-certificate.js";
import { externalCertificateImport } from "./external-certificate-import.js";
import { intermediate } from "./intermediate.js";
import { keyBackup } from "./key-backup.js";
import { keyCsr } from "./key-csr.js";
import { keyRestore } from "./key-restore.js";
import { quorumSplit } from "./quorum-split.js";
import { rootCertificate } from "./root-certificate.js";
import { rootKey } from "./root-key.js";

export type CeremonyFunction<T extends CeremonyType> = (x: CeremonyContext<Extract<CeremonyFile, { type: T }>>) => Promise<void>;

export const CEREMONIES: { readonly [T in CeremonyType]: CeremonyFunction<T> } = {
  "quorum-split": quorumSplit,
  "root-key": rootKey,
  "root-certificate": rootCertificate,
  intermediate,
  "cross-certificate": crossCertificate,
  "ca-crl": caCrl,
  "issuing-ca-key": keyCsr,
  "external-csr": keyCsr,
  "external-certificate-import": externalCertificateImport,
  "key-backup": keyBackup,
  "key-restore": keyRestore,
};
