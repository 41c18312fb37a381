/**
 * The ceremony files of an environment, rendered from the same definition as the IaC (names,
 * key algorithms and labels, validity, CRL and AIA URLs, the CP/CPS policy OID, the custodians
 * and quorum), so that the ceremonies and the deployment cannot disagree. Synth writes them to
 * cdktf.out/ceremonies/<env>/; every file parses with the strict schema (test/ceremony).
 */
import type { Environment, IssuingCa, OfflineRoot, ExternalRoot } from "../../environments/schema.js";
import { CP_LIMITS } from "../../policy/cp-limits.js";
import { caCertificateContent } from "@lanic-ca/pki-services/config/cp-rules";
import type { Profile } from "@lanic-ca/pki-services/config/schema";
import { parseCeremony, type CeremonyFile, type Quorum } from "./schema.js";
import { stringify } from "yaml";

export interface RenderedFile {
  /** Relative to cdktf.out/ceremonies/<env>/. */
  readonly path: string;
  readonly content: string;
}

/** The CA certificate's EKU and policies, from the profiles it issues under (config/cp-rules.ts
 *  caCertificateContent, the same rules the issuing CA checks at start): every policy its
 *  certificates assert, so RFC 5280 6.1 path validation with an explicit policy keeps a
 *  non-empty tree (no anyPolicy: subordinate CAs are policy-restricted, BR 7.1.2.10.5); the EKU
 *  restricted to its purpose (BR 7.1.2.10.6, MRSP 5.3; ADR 0070). A CA whose profiles break the
 *  layout (a TLS CA that also issues other kinds) is reported by the LCA-PRF controls and fails
 *  the strict parse below. */
function caContent(env: Environment, ca: IssuingCa) {
  const profiles = ca.profiles.filter((n) => Object.hasOwn(env.profiles, n)).map((name) => ({ name, profile: env.profiles[name] as Profile }));
  return caCertificateContent(profiles, env.cpCps.policyOid);
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
      type: "quorum-split",
      ...base,
      description: `Split the activation secret of the ${root.name} offline HSM, ${quorum.threshold} of ${quorum.custodians.length}`,
      mode: "initialise",
      outputs: { transcript: "01-quorum-split.transcript" },
    }),
    file(env, "02-root-key.yaml", "Root key generation", {
      // Generated for backup (ADR 0081): it leaves the HSM only wrapped, in the key-backup ceremony.
      type: "root-key",
      ...base,
      description: `Generate the ${root.name} key pair in the offline HSM`,
      key: { ...rootKey, backup: true },
      outputs: { publicKey: `${root.name}.pub.pem`, transcript: "02-root-key.transcript" },
    }),
    file(env, "03-root-certificate.yaml", "Self-signed root certificate", {
      type: "root-certificate",
      ...base,
      description: `Self-sign the ${root.name} certificate`,
      key: rootKey,
      inputs: { publicKey: `${root.name}.pub.pem` },
      certificate: { subject: root.subject, notBefore: "signing-time", validityDays: root.validityDays },
      outputs: { certificate: rootCert, transcript: "03-root-certificate.transcript" },
    }),
  ];
  env.issuingCas.forEach((ca, i) => {
    const n = String(4 + 2 * i).padStart(2, "0");
    const m = String(5 + 2 * i).padStart(2, "0");
    const part = partitionOf(env, ca.partition);
    const content = caContent(env, ca);
    out.push(
      file(env, `${n}-${ca.name}-key.yaml`, `Issuing CA key and CSR in the online HSM (${ca.name})`, {
        type: "issuing-ca-key",
        environment: env.name,
        description: `Generate the ${ca.name} key pair in HSM partition '${ca.partition}' and its CSR`,
        hsm: { library: env.hsm.pkcs11Library, tokenLabel: part.tokenLabel },
        key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm, generate: true, backup: true },
        csr: { subject: ca.subject },
        outputs: { publicKey: `${ca.name}.pub.pem`, csr: `${ca.name}.csr.pem`, transcript: `${n}-${ca.name}-key.transcript` },
      }),
      file(
        env,
        `${m}-${ca.name}-intermediate.yaml`,
        `Intermediate certificate for ${ca.name}, signed by ${root.name}`,
        {
          type: "intermediate",
          ...base,
          description: `Sign the ${ca.name} certificate with the ${root.name} key`,
          issuerKey: rootKey,
          inputs: { issuerCertificate: rootCert, csr: `${ca.name}.csr.pem` },
          certificate: {
            subject: ca.subject,
            keyAlgorithm: ca.keyAlgorithm,
            notBefore: "signing-time",
            validityDays: root.intermediateValidityDays,
            pathLength: CP_LIMITS.issuingCaPathLength,
            extendedKeyUsage: content.extendedKeyUsage,
            policies: content.policies,
            crlUrl,
            issuerUrl,
          },
          outputs: { certificate: `${ca.name}.crt.pem`, transcript: `${m}-${ca.name}-intermediate.transcript` },
        },
        content.problems.map((p) => `# ${p.message}\n`).join(""),
      ),
    );
  });
  const k = String(4 + 2 * env.issuingCas.length).padStart(2, "0");
  out.push(
    file(env, `${k}-ca-crl.yaml`, `CRL of CA certificates issued by ${root.name}`, {
      type: "ca-crl",
      ...base,
      description: `Sign CRL number 1 of ${root.name}`,
      issuerKey: rootKey,
      inputs: { issuerCertificate: rootCert },
      crl: { number: 1, thisUpdate: "signing-time", nextUpdateDays: root.caCrlNextUpdateDays, revoked: [] },
      outputs: { crl: `${root.name}.crl.pem`, transcript: `${k}-ca-crl.transcript` },
    }),
  );
  out.push(...keyBackups(env, root.custodians, root, 5 + 2 * env.issuingCas.length));
  return out;
}

/**
 * Key backup of every CA key (ADR 0081, 0082; BR 5.7.1.1 (11)): the root key in the offline HSM
 * (opened by the quorum) and each issuing CA key in its online partition (PIN typed), wrapped
 * under a key split among the custodians (the offline root's; an external root's environment
 * declares its own); copies of the media at every site. And, for
 * after the loss of an HSM, the matching key-restore files (`restore-*.yaml`, not part of the
 * sequence: the new offline HSM is first initialised with 01-quorum-split.yaml).
 */
function keyBackups(env: Environment, owners: { quorum: number; members: { id: string; name: string }[] }, root: OfflineRoot | undefined, first: number): RenderedFile[] {
  // Copies, not the environment's objects: YAML would print them as anchors and aliases.
  const custodians = { threshold: owners.quorum, members: owners.members.map((m) => ({ ...m })) };
  const copies = env.sites.map((s) => ({ id: `${s.name}-key-safe`, location: `${s.location.facility}, ${s.location.city}: custodians' key safe` }));
  const keys = [
    ...(root
      ? [
          {
            name: root.name,
            what: `the ${root.name} key in the offline HSM`,
            hsm: { library: root.hsm.pkcs11Library, tokenLabel: root.hsm.tokenLabel },
            quorum: { threshold: root.custodians.quorum, custodians: root.custodians.members, register: "quorum-register.json" } as Quorum | undefined,
            key: { label: root.keyLabel, algorithm: root.keyAlgorithm },
          },
        ]
      : []),
    ...env.issuingCas.map((ca) => ({
      name: ca.name,
      what: `the ${ca.name} key in HSM partition '${ca.partition}'`,
      hsm: { library: env.hsm.pkcs11Library, tokenLabel: partitionOf(env, ca.partition).tokenLabel },
      quorum: undefined,
      key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm },
    })),
  ];
  const out: RenderedFile[] = [];
  keys.forEach((k, i) => {
    const n = String(first + i).padStart(2, "0");
    out.push(
      file(env, `${n}-${k.name}-key-backup.yaml`, `Key backup: ${k.what}, wrapped under a key split among the custodians`, {
        type: "key-backup",
        environment: env.name,
        description: `Back up ${k.what} (${custodians.threshold} of ${custodians.members.length} custodians to restore)`,
        hsm: k.hsm,
        ...(k.quorum ? { quorum: k.quorum } : {}),
        key: k.key,
        custodians,
        copies,
        outputs: { media: `${k.name}.key-backup.json`, mediaRegister: `${k.name}.key-backup-register.json`, transcript: `${n}-${k.name}-key-backup.transcript` },
      }),
    );
  });
  for (const k of keys)
    out.push(
      file(env, `restore-${k.name}-key.yaml`, `Key restore (after the loss of an HSM only): ${k.what}, from its backup media`, {
        type: "key-restore",
        environment: env.name,
        description: `Restore ${k.what} from ${k.name}.key-backup.json into a token that does not hold it`,
        hsm: k.hsm,
        ...(k.quorum ? { quorum: k.quorum } : {}),
        key: k.key,
        inputs: { media: `${k.name}.key-backup.json` },
        outputs: { publicKey: `${k.name}.restored.pub.pem`, transcript: `restore-${k.name}-key.transcript` },
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
        type: "external-csr",
        environment: env.name,
        description: `Generate the ${ca.name} key pair and the CSR sent to ${root.operator}`,
        hsm,
        key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm, generate: true, ...(root.custodians ? { backup: true } : {}) },
        csr: { subject: ca.subject },
        outputs: { publicKey: `${ca.name}.pub.pem`, csr: `${ca.name}.csr.pem`, transcript: `${n}-${ca.name}-external-csr.transcript` },
      }),
      file(env, `${m}-${ca.name}-external-import.yaml`, `Import of the certificate ${root.operator} returned for ${ca.name}`, {
        type: "external-certificate-import",
        environment: env.name,
        description: `Check and import the ${ca.name} certificate issued by ${root.subject.CN}`,
        hsm,
        key: { label: ca.keyLabel, algorithm: ca.keyAlgorithm },
        externalRoot: { subject: root.subject, certificateSha256: root.certificateSha256 },
        inputs: { certificate: `${ca.name}.returned.crt.pem`, issuerCertificate: `${root.name}.crt.pem` },
        expect: { subject: ca.subject, maxValidityDays: CP_LIMITS.subordinateMaxValidityDays, pathLength: CP_LIMITS.issuingCaPathLength, policies: caContent(env, ca).policies },
        outputs: { certificate: `${ca.name}.crt.pem`, transcript: `${m}-${ca.name}-external-import.transcript` },
      }),
    );
  });
  if (root.custodians) out.push(...keyBackups(env, root.custodians, undefined, 1 + 2 * env.issuingCas.length));
  return out;
}

function readme(env: Environment, files: RenderedFile[]): RenderedFile {
  const sequence = files.filter((f) => !f.path.startsWith("restore-"));
  const restores = files.filter((f) => f.path.startsWith("restore-"));
  const lines = [
    `# Key ceremonies: ${env.name}`,
    "",
    `Rendered from environments/${env.name}.ts. Run them in this order, in this directory, following`,
    "docs/runbooks/key-ceremony.md. Each writes a transcript (`*.transcript.md` / `.json`); check each with",
    "`lanic-ca ceremony verify-transcript <file>.transcript.json` and write its last hash in the paper log.",
    "",
    ...sequence.map((f, i) => `${i + 1}. \`lanic-ca ceremony ${f.path.includes("quorum-split") ? "split " : ""}${f.path}\``),
    "",
    ...(restores.length
      ? [
          "Copy each `*.key-backup.json` onto the media its `*.key-backup-register.json` names (docs/runbooks/key-ceremony.md,",
          '"Key backup and restore"). Only after the loss of an HSM, with the media copied back here:',
          ...restores.map((f) => `- \`lanic-ca ceremony ${f.path}\``),
          "",
        ]
      : []),
    ...(env.rootOfTrust.type === "offline"
      ? [
          "Cross-certificates depend on an event (a root rollover, the switch from the external root) and are not",
          `rendered here: make the file when the event is decided with \`lanic-ca ceremony template cross-certificate --environment ${env.name} ...\``,
          '(docs/runbooks/key-ceremony.md, "Cross-certificate").',
          "",
        ]
      : []),
  ];
  return { path: "README.md", content: lines.join("\n") };
}

export interface CrossCertificateOptions {
  /** What is cross-certified: another root (rollover: the current root certifies the new one;
   *  pathLength omitted, BR 7.1.2.1.4) or an issuing CA (the switch from the external root: the
   *  Lao root certifies the issuing CA the external root certified; pathLength 0, CP/CPS 7.1.2). */
  readonly subjectKind: "root" | "issuing-ca";
  /** The existing certificate whose subject and key are cross-certified, relative to the
   *  ceremony directory: the field the custodians fill for the event. */
  readonly subjectCertificate: string;
  /** A short name for the outputs (cross-<name>.crt.pem), a lower-case DNS label. */
  readonly name: string;
  /** @default the root's intermediateValidityDays */
  readonly validityDays?: number;
}

/**
 * A cross-certificate ceremony file for `env`'s offline root. Not rendered by synth: it depends
 * on an event (a root rollover, the switch from the external root), so it is made when the event
 * is decided (`lanic-ca ceremony template cross-certificate`), with everything the environment
 * knows (HSM, quorum, root key, CRL and AIA URLs, the CP/CPS policy OID) filled in and the
 * subject certificate given. Parsed strictly like the rendered files: a bad option fails here.
 */
export function renderCrossCertificateFile(env: Environment, opts: CrossCertificateOptions): RenderedFile {
  const root = env.rootOfTrust;
  if (root.type !== "offline") throw new Error(`environment ${env.name}: a cross-certificate is signed by an offline root; this environment's root of trust is external (${root.operator})`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(opts.name) || opts.name.length > 40) throw new Error(`name '${opts.name}': expected a lower-case DNS label (a-z, 0-9, '-'), at most 40 characters`);
  const hsm = { library: root.hsm.pkcs11Library, tokenLabel: root.hsm.tokenLabel };
  const quorum = { threshold: root.custodians.quorum, custodians: root.custodians.members, register: "quorum-register.json" };
  const path = `cross-${opts.name}.yaml`;
  const what = opts.subjectKind === "root" ? "another root (rollover)" : "an issuing CA (switch from the external root)";
  const c: CeremonyFile = {
    type: "cross-certificate",
    environment: env.name,
    description: `Cross-certify ${opts.subjectCertificate}, ${what}, with the ${root.name} key`,
    hsm,
    quorum,
    issuerKey: { label: root.keyLabel, algorithm: root.keyAlgorithm },
    inputs: { issuerCertificate: `${root.name}.crt.pem`, subjectCertificate: opts.subjectCertificate },
    certificate: {
      notBefore: "signing-time",
      validityDays: opts.validityDays ?? root.intermediateValidityDays,
      ...(opts.subjectKind === "issuing-ca" ? { pathLength: CP_LIMITS.issuingCaPathLength } : {}),
      extendedKeyUsage: [],
      policies: [env.cpCps.policyOid],
      crlUrl: `${env.repository.baseUrl}/crl/${root.name}.crl`,
      issuerUrl: `${env.repository.baseUrl}/certs/${root.name}.der`,
    },
    outputs: { certificate: `cross-${opts.name}.crt.pem`, transcript: `cross-${opts.name}.transcript` },
  };
  parseCeremony(JSON.parse(JSON.stringify(c)), path);
  const head =
    `# Cross-certificate: ${what}\n# Made by \`lanic-ca ceremony template cross-certificate\` from environments/${env.name}.ts (CP/CPS ${env.cpCps.version}).\n` +
    "# Check inputs.subjectCertificate (the certificate cross-certified) and the validity, then run with `lanic-ca ceremony <this file>`.\n";
  return { path, content: head + stringify(c, { lineWidth: 0 }) };
}

/** The ceremony files of `env`, paths relative to cdktf.out/ceremonies/<env>/. */
export function renderCeremonyFiles(env: Environment): { path: string; content: string }[] {
  const files = env.rootOfTrust.type === "offline" ? offline(env, env.rootOfTrust) : external(env, env.rootOfTrust);
  return [readme(env, files), ...files];
}
