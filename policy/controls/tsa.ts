/**
 * Time-stamping authority controls (RFC 3161; ETSI EN 319 421 for the practice): its key only in
 * the HSM and only for it, a trustworthy clock source in Laos, a declared accuracy it can hold,
 * and a certificate that says what it is for.
 */
import type { TopologyJson } from "../../constructs/model.js";
import type { Control, FindingInput } from "../types.js";

const tsaPath = (m: TopologyJson) => m.components.find((c) => c.kind === "tsa")?.path ?? m.environment.name;
/** ETSI EN 319 421 7.7.2: time-stamps carry the UTC time within the declared accuracy; our CP
 *  declares at most one second. */
export const TSA_MAX_ACCURACY_MICROS = 1_000_000;

export const TSA_CONTROLS: Control[] = [
  {
    id: "LCA-TSA-01",
    title: "The TSA's key is in the HSM and used by the TSA alone",
    rfc3647: "6.2.7",
    references: ["RFC 3161 2.1", "NCSSR 1.2.1", "BR 6.2.7"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    requires: "tsa",
    basis: "must",
    owner: "ca-system-administrator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    rationale:
      "Time-stamp tokens are signed with a key generated and kept in the HSM (as CA keys are), in a partition that holds only time-stamping keys, granted to the TSA workload and nothing else: its PIN unlocks no CA key, and no other service can sign a token.",
    check(m) {
      const t = m.environment.tsa!;
      const out: FindingInput[] = [];
      const key = m.keys.find((k) => k.label === t.key.label && k.purpose === "time-stamping");
      if (key?.location.type !== "hsm-partition")
        out.push({
          key: `key:${t.key.label}`,
          path: tsaPath(m),
          found: `time-stamping key '${t.key.label}' is ${key ? "not in an HSM partition" : "not declared in the HSM"}`,
          required: "the TSA key generated in an HSM partition (purpose time-stamping)",
          fix: "declare the key in hsm.partitions[].keys with purpose 'time-stamping' and generate it in the HSM",
        });
      const partition = key?.location.type === "hsm-partition" ? key.location.partition : undefined;
      if (partition) {
        const others = m.keys.filter((k) => k.location.type === "hsm-partition" && k.location.partition === partition && k.purpose !== "time-stamping");
        if (others.length)
          out.push({
            key: `partition:${partition}`,
            path: m.hsms.find((h) => h.name === "online")?.path ?? tsaPath(m),
            found: `partition '${partition}' holds the TSA key and ${others.map((k) => `${k.purpose} key '${k.label}'`).join(", ")}`,
            required: "the TSA key in a partition of its own (its PIN unlocks no CA or OCSP key)",
            fix: "move the TSA key to a partition that holds only time-stamping keys",
          });
      }
      const kinds = new Map(m.components.map((c) => [c.id, c.kind]));
      for (const g of m.grants.filter((g) => g.kind === "hsm-sign" && (g.key === t.key.label || (partition && g.resource === `partition/${partition}`))))
        if (kinds.get(g.grantee) !== "tsa")
          out.push({
            key: `grant:${g.grantee}`,
            path: g.path,
            found: `${g.grantee} (${kinds.get(g.grantee) ?? "unknown"}) is granted the TSA's partition '${partition ?? "?"}' (key '${g.key}')`,
            required: "only the TSA signs with the time-stamping key",
            fix: "remove the grant; the TSA is the only grantee of its partition",
          });
      for (const g of m.grants.filter((g) => g.kind === "hsm-sign" && kinds.get(g.grantee) === "tsa" && g.key !== t.key.label))
        out.push({ key: `tsa-grant:${g.key}`, path: g.path, found: `the TSA is granted key '${g.key}' besides its own`, required: "the TSA signs with its own key only", fix: "remove the grant" });
      return out;
    },
  },
  {
    id: "LCA-TSA-02",
    title: "The TSA's clock is checked against declared time sources inside Laos",
    rfc3647: "6.8",
    references: ["RFC 3161 2.1", "CP 6.8"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    requires: "tsa",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    rationale:
      "A time-stamp is only as good as the clock behind it (RFC 3161 2.1: a trustworthy source of time): the TSA measures its error against NTP sources it declares, located in Laos like the rest of the authentication data, over flows the firewall matrix shows; it refuses to stamp when the error exceeds its accuracy.",
    check(m) {
      const t = m.environment.tsa!;
      const out: FindingInput[] = [];
      if (t.ntp.length === 0) out.push({ key: "no-ntp", path: tsaPath(m), found: "no NTP source declared", required: "at least one NTP source in Laos", fix: "declare tsa.ntp.sources" });
      for (const s of t.ntp) {
        if (s.country !== "LA")
          out.push({
            key: `ntp:${s.name}:country`,
            path: tsaPath(m),
            found: `NTP source '${s.name}' (${s.address}) is in ${s.country}`,
            required: "time sources inside Laos (country LA)",
            fix: "use a time source in a Lao facility (LANIC's GNSS-disciplined servers)",
          });
        for (const c of m.components.filter((x) => x.kind === "tsa")) {
          const flow = m.flows.find(
            (f) => f.from.type === "component" && f.from.id === c.id && f.to.type === "external" && f.to.kind === "ntp" && f.to.cidrs.includes(`${s.address}/32`) && f.port === s.port && f.protocol === "UDP",
          );
          if (!flow)
            out.push({
              key: `ntp:${s.name}:flow:${c.id}`,
              path: c.path,
              found: `${c.id} has no declared flow to NTP source '${s.name}' (${s.address}:${s.port}/udp)`,
              required: "an egress flow (and firewall row) from the TSA to each of its time sources",
              fix: "build the TSA with the TimeStampingAuthority construct, which declares the flows",
            });
        }
      }
      return out;
    },
  },
  {
    id: "LCA-TSA-03",
    title: "The TSA declares an accuracy of at most one second",
    rfc3647: "6.8",
    references: ["RFC 3161 2.4.2", "CP 6.8"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    requires: "tsa",
    basis: "cp",
    owner: "ia-operator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    rationale: "Every token states the accuracy of its time (RFC 3161 2.4.2 accuracy); the CP declares one second or better, and the TSA refuses to stamp while its measured clock error exceeds what it declares.",
    check(m) {
      const t = m.environment.tsa!;
      if (t.accuracyMicros > 0 && t.accuracyMicros <= TSA_MAX_ACCURACY_MICROS) return [];
      return [
        {
          key: "accuracy",
          path: tsaPath(m),
          found: t.accuracyMicros === 0 ? "no accuracy declared (0)" : `accuracy ${t.accuracyMicros / 1e6} s`,
          required: "an accuracy above 0 and at most 1 s",
          fix: "declare tsa.accuracy (e.g. { seconds: 1 }) and keep the time sources able to meet it",
        },
      ];
    },
  },
  {
    id: "LCA-TSA-04",
    title: "The TSA certificate's profile is a time-stamping profile",
    rfc3647: "7.1",
    references: ["RFC 3161 2.3", "RFC 5280 4.2.1.12"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    requires: "tsa",
    basis: "must",
    owner: "ra-operator",
    exceptions: "never",
    rationale:
      "RFC 3161 2.3: the TSA's certificate carries exactly one extended key usage, id-kp-timeStamping, marked critical (the time-stamping profile kind compiles it so); its key only signs (digitalSignature, optionally nonRepudiation).",
    check(m) {
      const t = m.environment.tsa!;
      const c = t.certificate;
      const out: FindingInput[] = [];
      if (c.kind !== "time-stamping")
        out.push({
          key: `profile:${t.profile}:kind`,
          path: tsaPath(m),
          found: `profile '${t.profile}' is of kind ${c.kind}`,
          required: "a profile of kind time-stamping (critical EKU)",
          fix: "issue the TSA certificate under the time-stamping profile",
        });
      if (c.extendedKeyUsage.length !== 1 || c.extendedKeyUsage[0] !== "timeStamping")
        out.push({
          key: `profile:${t.profile}:eku`,
          path: tsaPath(m),
          found: `extendedKeyUsage ${c.extendedKeyUsage.join(", ") || "(none)"}`,
          required: "id-kp-timeStamping alone (RFC 3161 2.3)",
          fix: "set extendedKeyUsage: ['timeStamping'] in the profile",
        });
      const extra = c.keyUsage.filter((k) => k !== "digitalSignature" && k !== "nonRepudiation");
      if (!c.keyUsage.includes("digitalSignature") || extra.length)
        out.push({
          key: `profile:${t.profile}:ku`,
          path: tsaPath(m),
          found: `keyUsage ${c.keyUsage.join(", ")}`,
          required: "digitalSignature (and optionally nonRepudiation) only",
          fix: "set keyUsage: ['digitalSignature'] in the profile",
        });
      return out;
    },
  },
];
