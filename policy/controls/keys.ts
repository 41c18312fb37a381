/** Key controls: where the root key lives, algorithms and sizes, root validity. */
import type { TopologyJson } from "../../constructs/model.js";
import { CP_LIMITS } from "../cp-limits.js";
import { cidrContains } from "../net.js";
import type { Control, FindingInput } from "../types.js";

/** BR 6.1.5 / MRSP 5.1: RSA ≥ 2048 bits and a multiple of 8; ECDSA on P-256, P-384, P-521. */
export function keyAlgorithmProblem(algorithm: string): string | undefined {
  const rsa = /^RSA_(\d+)$/.exec(algorithm);
  if (rsa) {
    const bits = Number(rsa[1]);
    if (bits < 2048) return `RSA modulus ${bits} bits is below 2048`;
    if (bits % 8 !== 0) return `RSA modulus ${bits} bits is not a multiple of 8`;
    return undefined;
  }
  if (["ECDSA_P256", "ECDSA_P384", "ECDSA_P521"].includes(algorithm)) return undefined;
  return `${algorithm} is not an RSA or NIST P-256/P-384/P-521 ECDSA key`;
}

/** Resource types that could carry or expose a key reference (not NetworkPolicies or RBAC). */
const SCANNED = new Set([
  "kubernetes_service_v1",
  "kubernetes_secret_v1",
  "kubernetes_config_map_v1",
  "kubernetes_deployment_v1",
  "kubernetes_cron_job_v1",
  "kubernetes_endpoints_v1",
  "kubernetes_manifest",
  "kubernetes_stateful_set_v1",
  "kubernetes_job_v1",
  "kubernetes_pod_v1",
]);

const rootPath = (m: TopologyJson) => m.components.find((c) => c.kind === "offline-root")?.path ?? m.hsms.find((h) => h.type === "offline")?.path ?? m.environment.name;

export const KEY_CONTROLS: Control[] = [
  {
    id: "LCA-KEY-01",
    title: "Root CA key only in the offline enclave",
    rfc3647: "6.2.7",
    references: ["NCSSR 1.2.1", "BR 6.1.1.1", "BR 6.2.7"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rootOfTrust: ["offline"],
    rationale: "Root CA systems must be on networks physically separate from all other CA infrastructure (NCSSR 1.2.1): the root key is in the air-gapped enclave only, and nothing online can reach or name it.",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const rootKeys = m.keys.filter((k) => k.purpose === "root");
      const root = m.components.find((c) => c.kind === "offline-root");
      if (rootKeys.length === 0)
        out.push({ key: "no-root-key", path: rootPath(m), found: "no root key in the model", required: "the root key recorded in the offline enclave", fix: "declare rootOfTrust.type 'offline' with its key label" });
      for (const k of rootKeys) {
        if (k.location.type !== "offline-enclave")
          out.push({
            key: `key:${k.label}`,
            path: m.hsms.find((h) => h.name === k.location.hsm)?.path ?? rootPath(m),
            found: `root key '${k.label}' in online HSM '${k.location.hsm}' partition '${k.location.type === "hsm-partition" ? k.location.partition : ""}'`,
            required: "root keys only in the offline enclave HSM",
            fix: "remove the root key from the online HSM partitions; generate it in the offline root ceremony",
          });
        for (const g of m.grants.filter((g) => g.key === k.label))
          out.push({
            key: `grant:${g.grantee}`,
            path: g.path,
            found: `${g.grantee} is granted use of root key '${k.label}'`,
            required: "no online workload holds a grant on a root key",
            fix: "remove the grant; sign intermediates at the offline ceremony",
          });
      }
      // No online partition holds a key under the root key's label (a copy or an import).
      for (const h of m.hsms.filter((h) => h.type !== "offline"))
        for (const p of h.partitions)
          for (const l of p.keys.filter((l) => rootKeys.some((k) => k.label === l)))
            out.push({
              key: `partition:${h.name}:${p.name}:${l}`,
              path: h.path,
              found: `online HSM '${h.name}' partition '${p.name}' holds a key labelled '${l}', the root key's label`,
              required: "no online partition holds the root key",
              fix: "remove the key from the online partition",
            });
      // No flow reaches or leaves the enclave (NCSSR 1.2.1: physically separate network).
      if (root)
        for (const f of m.flows)
          if ((f.from.type === "component" && f.from.id === root.id) || (f.to.type === "component" && f.to.id === root.id))
            out.push({
              key: `flow:${f.site}:${f.port}:${f.from.type === "component" ? f.from.id : f.from.name}`,
              path: f.path,
              found: `a network flow (${f.purpose}, port ${f.port}) touches the offline root`,
              required: "no network flow to or from the offline root",
              fix: "remove the flow: the root enclave is air-gapped",
            });
      // No synthesized Service, Secret, ConfigMap or workload names the root key or the offline HSM.
      const labels = rootKeys.map((k) => k.label);
      if (labels.length === 0) return out;
      for (const r of ctx.resources.all) {
        if (!SCANNED.has(r.type)) continue;
        const strings = ctx.resources.stringsOf(r);
        for (const l of labels)
          if (strings.some((x) => x === l || x.includes(`=${l}`) || x.includes(`"${l}"`)))
            out.push({
              key: `resource:${r.stack}:${r.type}:${r.name}`,
              path: r.path,
              found: `${r.type} in stack ${r.stack} refers to root key '${l}'`,
              required: "no online resource refers to the root key",
              fix: "remove the reference: the root key is used only at offline ceremonies",
            });
      }
      return out;
    },
  },
  {
    id: "LCA-KEY-02",
    title: "Key algorithms and sizes",
    rfc3647: "6.1.5",
    references: ["BR 6.1.5", "MRSP 5.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Only RSA keys of at least 2048 bits (a multiple of 8) and ECDSA keys on P-256, P-384 or P-521 are permitted (BR 6.1.5).",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: "never",
    check(m) {
      const out: FindingInput[] = [];
      for (const k of m.keys) {
        const p = keyAlgorithmProblem(k.algorithm);
        if (p)
          out.push({
            key: `key:${k.label}`,
            path: m.hsms.find((h) => h.name === k.location.hsm)?.path ?? m.environment.name,
            found: `${k.purpose} key '${k.label}': ${p}`,
            required: "RSA ≥ 2048 bits, multiple of 8; or ECDSA P-256/P-384/P-521",
            fix: "generate the key with an allowed algorithm (environments/<env>.ts hsm.partitions[].keys[].algorithm)",
          });
      }
      for (const ca of m.environment.cas) {
        const p = keyAlgorithmProblem(ca.keyAlgorithm);
        if (p)
          out.push({
            key: `ca:${ca.name}`,
            path: m.environment.name,
            found: `CA '${ca.name}': ${p}`,
            required: "RSA ≥ 2048 bits, multiple of 8; or ECDSA P-256/P-384/P-521",
            fix: "set the CA's keyAlgorithm to an allowed algorithm",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-KEY-03",
    title: "CA keys: RSA at least 3072 bits",
    rfc3647: "6.1.5",
    references: ["CP 6.1.5", "BR 6.1.5"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "Root and issuing CA keys outlive subscriber keys by years; our CP requires RSA ≥ 3072 bits (or ECDSA) for them, above the BR 6.1.5 floor of 2048.",
    basis: "cp",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      for (const k of m.keys) {
        if (k.purpose === "ocsp-signing") continue;
        const rsa = /^RSA_(\d+)$/.exec(k.algorithm);
        if (rsa && Number(rsa[1]) < CP_LIMITS.caRsaMinBits)
          out.push({
            key: `key:${k.label}`,
            path: m.hsms.find((h) => h.name === k.location.hsm)?.path ?? m.environment.name,
            found: `${k.purpose} key '${k.label}' of CA '${k.ca}' is ${k.algorithm}`,
            required: `RSA ≥ ${CP_LIMITS.caRsaMinBits} bits or ECDSA for CA keys (CP 6.1.5)`,
            fix: `use RSA_3072, RSA_4096 or ECDSA_P384 for '${k.ca}'`,
          });
      }
      return out;
    },
  },
  {
    id: "LCA-KEY-04",
    title: "Root certificate validity within BR limits",
    rfc3647: "6.3.2",
    references: ["BR 7.1.2.1.1", "MRSP 7.4"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rootOfTrust: ["offline"],
    rationale: "A root certificate's validity must be between 2922 and 9132 days (BR 7.1.2.1.1).",
    basis: "must",
    owner: "key-custodian",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const { min, max } = CP_LIMITS.rootValidityDays;
      for (const ca of m.environment.cas.filter((c) => c.type === "root"))
        if (ca.validityDays === undefined || ca.validityDays < min || ca.validityDays > max)
          out.push({
            key: `ca:${ca.name}`,
            path: rootPath(m),
            found: `root '${ca.name}' validity ${ca.validityDays ?? "unset"} days`,
            required: `${min} ≤ validity ≤ ${max} days (BR 7.1.2.1.1)`,
            fix: "set rootOfTrust.validityDays within the limits (e.g. 5479, 15 years)",
          });
      return out;
    },
  },
  {
    id: "LCA-KEY-05",
    title: "The offline root's HSM shares nothing with the online HSMs",
    rfc3647: "6.2.7",
    references: ["NCSSR 1.2.1", "BR 6.2.7", "BR 6.1.1.1"],
    severity: "error",
    tiers: ["staging", "production"],
    rootOfTrust: ["offline"],
    rationale:
      "Root CA systems are on networks physically separate from all other CA infrastructure (NCSSR 1.2.1). The root HSM's recorded identity proves it: not a network appliance, no address any flow reaches, a token label and serial number that are no online partition's, and a PKCS#11 library that is not the online HSM client's (a ceremony loading that library would talk to the online appliances).",
    basis: "must",
    owner: "key-custodian",
    exceptions: "never",
    check(m) {
      const out: FindingInput[] = [];
      const root = m.hsms.find((h) => h.type === "offline");
      if (!root) return out;
      const online = m.hsms.filter((h) => h.type !== "offline");
      const rootPartition = root.partitions[0];
      if (root.attachment === "network")
        out.push({
          key: "attachment",
          path: root.path,
          found: `offline root HSM '${root.vendor} ${root.model}' is a network appliance${root.address ? ` at ${root.address}` : ""}`,
          required: "the root HSM attached to the air-gapped ceremony machine only (PCIe card or USB token)",
          fix: "use a PCIe or USB HSM in the enclave (rootOfTrust.hsm.attachment) and take it off every network",
        });
      if (root.address) {
        // Something online that may open a connection to an address range holding the root HSM.
        for (const f of m.flows)
          for (const e of [f.to])
            if (e.type === "external" && e.cidrs.some((c) => cidrContains(c, root.address!)))
              out.push({
                key: `reachable:${f.site}:${e.name}:${f.port}`,
                path: f.path,
                found: `the offline root HSM's address ${root.address} is inside ${e.cidrs.join(", ")} of the flow '${f.purpose}' (site ${f.site})`,
                required: "no flow reaches the root HSM",
                fix: "remove the root HSM from every network; it is reached only by the ceremony machine in the enclave",
              });
        for (const h of online)
          for (const mem of h.members.filter((x) => x.address === root.address))
            out.push({
              key: `member:${h.name}:${mem.name}`,
              path: h.path,
              found: `the offline root HSM's address ${root.address} is online HSM member '${mem.name}'`,
              required: "the root HSM is not an online HSM member",
              fix: "use a separate HSM in the enclave for the root",
            });
      }
      for (const h of online) {
        if (h.pkcs11Library === root.pkcs11Library)
          out.push({
            key: `library:${h.name}`,
            path: root.path,
            found: `the root ceremonies load ${root.pkcs11Library}, the PKCS#11 library the online HSM '${h.name}' is reached by`,
            required: "the root's library is the local card's, not the online HSM client's",
            fix: "set rootOfTrust.hsm.pkcs11Library to the enclave machine's library for the local HSM (configured for no network appliance)",
          });
        for (const p of h.partitions) {
          if (rootPartition && p.tokenLabel === rootPartition.tokenLabel)
            out.push({
              key: `token:${h.name}:${p.name}`,
              path: root.path,
              found: `the root token label '${rootPartition.tokenLabel}' is also online partition '${p.name}' of HSM '${h.name}'`,
              required: "the root token is no online partition",
              fix: "give the root its own HSM and token; never point rootOfTrust.hsm at an online partition",
            });
          if (rootPartition?.serialNumber && p.serialNumber === rootPartition.serialNumber)
            out.push({
              key: `serial:${h.name}:${p.name}`,
              path: root.path,
              found: `the root token serial ${p.serialNumber} is online partition '${p.name}' of HSM '${h.name}'`,
              required: "the root token is no online partition",
              fix: "give the root its own HSM and token; record the serial number read from the enclave HSM at acceptance",
            });
        }
      }
      return out;
    },
  },
];
