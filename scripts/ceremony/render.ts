/**
 * The ceremony files of an environment, rendered from the same definition as the IaC (names,
 * key algorithms and labels, validity, CRL and AIA URLs, the CP/CPS policy OID, the custodians
 * and quorum), so that the ceremonies and the deployment cannot disagree. Synth writes them to
 * cdktf.out/ceremonies/<env>/; every file parses with the strict schema (test/ceremony).
 */
import { stringify } from "yaml";
import type { Environment, IssuingCa, OfflineRoot, ExternalRoot } from "../../environments/schema.js";
import { EKU_FORBIDDEN_WITH_SERVER_AUTH, parseCeremony, LIMITS, type CeremonyFile } from "./schema.js";

export interface RenderedFile {
  /** Relative to cdktf.out/ceremonies/<env>/. */
  readonly path: string;
  readonly content: string;
}

type EkuName = "serverAuth" | "clientAuth" | "emailProtection" | "documentSigning";
/** BR 7.1.6.1: the reserved policy identifier a TLS subordinate CA carries (organization-validated). */
const BR_OV = "2.23.140.1.2.2";

/** The CA certificate's EKU: the union of its profiles' (without ocspSigning, BR 7.1.2.10.6).
 *  A CA whose profiles mix serverAuth with a purpose BR 7.1.2.10.6 forbids beside it (a dev CA
 *  issuing every profile) gets no EKU at all: the CP/CPS policy checks report that environment,
 *  synth does not stop on it here. */
function caEkus(env: Environment, ca: IssuingCa): { ekus: EkuName[]; note?: string } {
  const set = new Set<string>();
  for (const p of ca.profiles) for (const e of env.profiles[p]?.extendedKeyUsage ?? []) if (e !== "ocspSigning") set.add(e);
  const ekus = [...set].sort() as EkuName[];
  if (ekus.includes("serverAuth") && ekus.some((e) => (EKU_FORBIDDEN_WITH_SERVER_AUTH as readonly string[]).includes(e)))
    return { ekus: [], note: `# extendedKeyUsage left empty: the profiles of ${ca.name} mix serverAuth with ${ekus.filter((e) => e !== "serverAuth").join(", ")} (BR 7.1.2.10.6)\n` };
  return { ekus };
}

function partitionOf(env: Environment, name: string) {
  const p = env.hsm.partitions.find((x) => x.name === name);
  if (!p) throw new Error(`environment ${env.name}: unknown HSM partition '${name}'`);
  return p;
}

const header = (env: Environment, what: string) =>
  `# ${what}\n# Rendered by \`lanic-ca synth\` from environments/${env.name}.ts (CP/CPS ${env.cpCps.version}). Do not edit:\n` +
  "# change the environment and synthesize again. Run with `lanic-ca ceremony <this file>`.\n";

function file(env: Environment, path: string, what: string, c: CeremonyFile, note = ""): RenderedFile {
  // Every rendered file must pass the strict parse: a bad environment fails synth, not the ceremony.
  parseCeremony(JSON.parse(JSON.stringify(c)), `cdktf.out/ceremonies/${env.name}/${path}`);
  return { path, content: header(env, what) + note + stringify(c, { lineWidth: 0 }) };
}

function offline(env: Environment, root: OfflineRoot): RenderedFile[] {
  const hsm = { library: root.hsm.pkcs11Library, tokenLabel: root.hsm.tokenLabel };
  const quorum = { threshold: root.custodians.quorum, custodians: root.custodians.members, register: "quorum-register.json" };
  const base = { environment: env.name, hsm, quorum };
  const rootKey = { label: root.keyLabel, algorithm: root.keyAlgorithm };
  const rootCert = `${root.name}.crt.pem`;
  const crlUrl = `${env.repository.baseUrl}/crl/${root.name}.crl`;
  const issuerUrl = `${env.repository.baseUrl}/certs/${root.name}.der`;
  const out: RenderedFile[] = [
    file(env, "01-quorum-split.yaml", "Quorum initialisation: the offline HSM's activation secret, split among the custodians", {
      type: "quorum-split", ...base, description: `Split the activation secret of the ${root.name} offline HSM, ${quorum.threshold} of ${quorum.custodians.length}`,
      mode: "initialise", outputs: { transcript: "01-quorum-split.transcript" },
    }),
    file(env, "02-root-key.yaml", "Root key generation", {
      type: "root-key", ...base, description: `Generate the ${root.name} key pair in the offline HSM`, key: rootKey,
      outputs: { publicKey: `${root.name}.pub.pem`, transcript: "02-root-key.transcript" },
    }),
    file(env, "03-root-certificate.yaml", "Self-signed root certificate", {
      type: "root-certificate", ...base, description: `Self-sign the ${root.name} certificate`, key: rootKey,
      inputs: { publicKey: `${root.name}.pub.pem` },
      certificate: { subject: root.subject, notBefore: "signing-time", validityDays: root.validityDays },
      outputs: { certificate: rootCert, transcript: "03-root-certificate.transcript" },
    }),
  ];
  env.issuingCas.forEach((ca, i) => {
    const n = String(4 + 2 * i).padStart(2, "0");
    const m = String(5 + 2 * i).padStart(2, "0");
    const part = partitionOf(env, ca.partition);
    const { ekus, note } = caEkus(env, ca);
    out.push(
      file(env, `${n}-${ca.name}-key.yaml`, `Issuing CA key and CSR in the online HSM (${ca.name})`, {
        type: "issuing-ca-key", environment: env.name, description: `Generate the ${ca.name} key pair in HSM partition '${ca.partition}' and its CSR`,
        hsm: { library: env.hsm.pkcs11Library, tokenLabel: part.tokenLabel }, key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm, generate: true },
        csr: { subject: ca.subject }, outputs: { publicKey: `${ca.name}.pub.pem`, csr: `${ca.name}.csr.pem`, transcript: `${n}-${ca.name}-key.transcript` },
      }),
      file(env, `${m}-${ca.name}-intermediate.yaml`, `Intermediate certificate for ${ca.name}, signed by ${root.name}`, {
        type: "intermediate", ...base, description: `Sign the ${ca.name} certificate with the ${root.name} key`, issuerKey: rootKey,
        inputs: { issuerCertificate: rootCert, csr: `${ca.name}.csr.pem` },
        certificate: {
          subject: ca.subject, keyAlgorithm: ca.keyAlgorithm, notBefore: "signing-time", validityDays: root.intermediateValidityDays,
          pathLength: LIMITS.issuingCaPathLength, extendedKeyUsage: ekus,
          policies: ekus.includes("serverAuth") ? [BR_OV, env.cpCps.policyOid] : [env.cpCps.policyOid], crlUrl, issuerUrl,
        },
        outputs: { certificate: `${ca.name}.crt.pem`, transcript: `${m}-${ca.name}-intermediate.transcript` },
      }, note),
    );
  });
  const k = String(4 + 2 * env.issuingCas.length).padStart(2, "0");
  out.push(
    file(env, `${k}-ca-crl.yaml`, `CRL of CA certificates issued by ${root.name}`, {
      type: "ca-crl", ...base, description: `Sign CRL number 1 of ${root.name}`, issuerKey: rootKey, inputs: { issuerCertificate: rootCert },
      crl: { number: 1, thisUpdate: "signing-time", nextUpdateDays: root.caCrlNextUpdateDays, revoked: [] },
      outputs: { crl: `${root.name}.crl.pem`, transcript: `${k}-ca-crl.transcript` },
    }),
  );
  return out;
}

function external(env: Environment, root: ExternalRoot): RenderedFile[] {
  const out: RenderedFile[] = [];
  env.issuingCas.forEach((ca, i) => {
    const part = partitionOf(env, ca.partition);
    const hsm = { library: env.hsm.pkcs11Library, tokenLabel: part.tokenLabel };
    const n = String(1 + 2 * i).padStart(2, "0");
    const m = String(2 + 2 * i).padStart(2, "0");
    out.push(
      file(env, `${n}-${ca.name}-external-csr.yaml`, `CSR of ${ca.name} for the external root (${root.operator})`, {
        type: "external-csr", environment: env.name, description: `Generate the ${ca.name} key pair and the CSR sent to ${root.operator}`, hsm,
        key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm, generate: true }, csr: { subject: ca.subject },
        outputs: { publicKey: `${ca.name}.pub.pem`, csr: `${ca.name}.csr.pem`, transcript: `${n}-${ca.name}-external-csr.transcript` },
      }),
      file(env, `${m}-${ca.name}-external-import.yaml`, `Import of the certificate ${root.operator} returned for ${ca.name}`, {
        type: "external-certificate-import", environment: env.name, description: `Check and import the ${ca.name} certificate issued by ${root.subject.CN}`, hsm,
        key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm }, externalRoot: { subject: root.subject, certificateSha256: root.certificateSha256 },
        inputs: { certificate: `${ca.name}.returned.crt.pem`, issuerCertificate: `${root.name}.crt.pem` },
        expect: { subject: ca.subject, maxValidityDays: LIMITS.subordinateValidityDays.max, pathLength: LIMITS.issuingCaPathLength, policies: [env.cpCps.policyOid] },
        outputs: { certificate: `${ca.name}.crt.pem`, transcript: `${m}-${ca.name}-external-import.transcript` },
      }),
    );
  });
  return out;
}

function readme(env: Environment, files: RenderedFile[]): RenderedFile {
  const lines = [
    `# Key ceremonies: ${env.name}`,
    "",
    `Rendered from environments/${env.name}.ts. Run them in this order, in this directory, following`,
    "docs/runbooks/key-ceremony.md. Each writes a transcript (`*.transcript.md` / `.json`); check each with",
    "`lanic-ca ceremony verify-transcript <file>.transcript.json` and write its last hash in the paper log.",
    "",
    ...files.map((f, i) => `${i + 1}. \`lanic-ca ceremony ${f.path.includes("quorum-split") ? "split " : ""}${f.path}\``),
    "",
  ];
  return { path: "README.md", content: lines.join("\n") };
}

/** The ceremony files of `env`, paths relative to cdktf.out/ceremonies/<env>/. */
export function renderCeremonyFiles(env: Environment): { path: string; content: string }[] {
  const files = env.rootOfTrust.type === "offline" ? offline(env, env.rootOfTrust) : external(env, env.rootOfTrust);
  return [readme(env, files), ...files];
}
