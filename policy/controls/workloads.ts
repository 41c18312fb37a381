/** Workload controls: hardening, images by digest, availability. */
import type { ComponentFact } from "../../constructs/model.js";
import type { SynthesizedResources, TfResource } from "../resources.js";
import type { Control, FindingInput } from "../types.js";

const DIGEST = /@sha256:[a-f0-9]{64}$/;

type PodSpec = {
  automount_service_account_token?: boolean;
  host_network?: boolean;
  host_pid?: boolean;
  host_ipc?: boolean;
  security_context?: { run_as_non_root?: boolean; seccomp_profile?: { type?: string } };
  container?: Container[];
  topology_spread_constraint?: unknown[];
};
type Container = {
  image?: string;
  security_context?: { run_as_non_root?: boolean; allow_privilege_escalation?: boolean; privileged?: boolean; read_only_root_filesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};

/** The synthesized Deployment or CronJob running a component, and its pod spec. */
export function workloadResource(res: SynthesizedResources, c: ComponentFact): { resource: TfResource; pod: PodSpec } | undefined {
  const r = res.at(`${c.path}/deployment`) ?? res.at(`${c.path}/cronjob`);
  if (!r) return undefined;
  type Template = { template?: { spec?: PodSpec } };
  const spec = r.body.spec as (Template & { job_template?: { spec?: Template } }) | undefined;
  const pod = (r.type === "kubernetes_cron_job_v1" ? spec?.job_template?.spec?.template?.spec : spec?.template?.spec) as PodSpec;
  return { resource: r, pod: pod ?? {} };
}

/** What the synthesized pod spec breaks of Pod Security "restricted" and our additions. */
export function podProblems(pod: PodSpec): string[] {
  const p: string[] = [];
  if (pod.automount_service_account_token !== false) p.push("service account token mounted");
  if (pod.host_network || pod.host_pid || pod.host_ipc) p.push("host namespaces shared");
  if (pod.security_context?.seccomp_profile?.type !== "RuntimeDefault") p.push("pod seccomp profile not RuntimeDefault");
  for (const c of pod.container ?? []) {
    const s = c.security_context ?? {};
    if (s.run_as_non_root !== true && pod.security_context?.run_as_non_root !== true) p.push("may run as root");
    if (s.allow_privilege_escalation !== false) p.push("privilege escalation allowed");
    if (s.privileged) p.push("privileged container");
    if (s.read_only_root_filesystem !== true) p.push("writable root filesystem");
    if (!s.capabilities?.drop?.includes("ALL")) p.push("capabilities not all dropped");
    if (s.capabilities?.add?.length) p.push(`capabilities added: ${s.capabilities.add.join(", ")}`);
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.cpu || !c.resources?.limits?.memory) p.push("requests and limits not set");
  }
  return p;
}

export const WORKLOAD_CONTROLS: Control[] = [
  {
    id: "LCA-WKL-01",
    title: "Every workload hardened (Pod Security restricted and more)",
    rfc3647: "6.5.1",
    references: ["NCSSR 1.2.2", "NCSSR 1.2.3"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "Every workload (signing services, RA front end and back end, repository, OCSP responder, audit collector, scheduled checks) runs non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault, no service-account token, with requests and limits, and no opt-out (minimized capabilities, NCSSR 1.2.2): any of them is a foothold next to the CA.",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      for (const c of m.components.filter((c) => c.runsAs === "Deployment" || c.runsAs === "CronJob")) {
        const h = c.hardening;
        const fact: string[] = [];
        if (!h) fact.push("no hardening recorded");
        else {
          if (!h.runAsNonRoot) fact.push("may run as root");
          if (!h.readOnlyRootFilesystem) fact.push("writable root filesystem");
          if (h.allowPrivilegeEscalation) fact.push("privilege escalation allowed");
          if (!h.capabilitiesDropAll) fact.push("capabilities not all dropped");
          if (!h.seccompRuntimeDefault) fact.push("seccomp not RuntimeDefault");
          if (h.automountServiceAccountToken) fact.push("service account token mounted");
          if (!h.resourcesSet) fact.push("requests and limits not set");
          for (const o of h.optOuts) fact.push(`opt-out ${o.prop} (${o.reason})`);
        }
        const w = workloadResource(ctx.resources, c);
        const synth = w ? podProblems(w.pod) : ["no synthesized Deployment or CronJob"];
        const problems = [...new Set([...fact, ...synth])];
        if (problems.length)
          out.push({
            key: `component:${c.id}`,
            path: w?.resource.path ?? c.path,
            found: `${c.id}: ${problems.join("; ")}`,
            required: "Pod Security restricted + read-only root FS, no SA token, requests/limits, no opt-out",
            fix: `run ${c.id} as a HardenedWorkload and remove the opt-out or the setting that breaks it (${problems[0]})`,
          });
      }
      return out;
    },
  },
  {
    id: "LCA-WKL-02",
    title: "Images by digest outside dev",
    rfc3647: "6.6.1",
    references: ["NCSSR 1.3", "NCSSR 1.2.2"],
    severity: "error",
    tiers: ["staging", "production"],
    rationale: "A tag can be moved to other code after review; an image pinned by digest runs exactly what change management approved (NCSSR 1.3).",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      for (const c of m.components.filter((c) => c.image !== undefined)) {
        const w = workloadResource(ctx.resources, c);
        const images = [c.image!, ...(w?.pod.container ?? []).map((x) => x.image ?? "")];
        const bad = [...new Set(images.filter((i) => !DIGEST.test(i)))];
        if (bad.length)
          out.push({
            key: `component:${c.id}`,
            path: w?.resource.path ?? c.path,
            found: `${c.id} runs ${bad.join(", ")}`,
            required: "image@sha256:<64 hex>",
            fix: "pin the image by digest in environments/<env>.ts images",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-WKL-03",
    title: "Online services replicated, with a PDB and spread, in production",
    rfc3647: "5.7.4",
    references: ["BR 4.10.2", "BR 5.7.1.1"],
    severity: "error",
    tiers: ["production"],
    rationale: "Repository, OCSP, RA and CA services must stay available through a node failure or drain (BR 4.10.2: 24x7 revocation information): at least 2 replicas, a PodDisruptionBudget and spread over nodes.",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev", "staging", "production"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      for (const c of m.components.filter((c) => c.online && !c.standby && c.runsAs !== "none" && c.runsAs !== "external")) {
        const problems: string[] = [];
        if (c.replicas < 2) problems.push(`${c.replicas} replica(s)`);
        if (!c.pdb) problems.push("no PodDisruptionBudget");
        if (!c.spread) problems.push("no spread over nodes");
        if (c.runsAs === "Deployment") {
          const w = workloadResource(ctx.resources, c);
          if (c.pdb && !ctx.resources.at(`${c.path}/pdb`)) problems.push("PodDisruptionBudget not synthesized");
          if (c.spread && !w?.pod.topology_spread_constraint?.length) problems.push("no topology spread constraint synthesized");
        }
        if (problems.length)
          out.push({
            key: `component:${c.id}`,
            path: c.path,
            found: `${c.id}: ${problems.join(", ")}`,
            required: "≥ 2 replicas, a PDB and a topology spread constraint",
            fix: "set workloads.<kind>.replicas ≥ 2 (database.instances ≥ 2) in environments/<env>.ts",
          });
      }
      return out;
    },
  },
  {
    id: "LCA-WKL-04",
    title: "Every namespace enforces Pod Security restricted",
    rfc3647: "6.5.1",
    references: ["NCSSR 1.2.2", "NCSSR 1.2.3"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "The cluster itself refuses a pod that breaks the restricted Pod Security Standard in any CA namespace (label pod-security.kubernetes.io/enforce=restricted), so a workload applied outside this code (kubectl, a Helm chart) cannot run privileged next to the CA (NCSSR 1.2.2).",
    basis: "cp",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const namespaces = ctx.resources.ofType("kubernetes_namespace_v1");
      const byStackNs = new Map(namespaces.map((r) => [`${r.stack} ${(r.body.metadata as { name?: string })?.name}`, r]));
      for (const ns of namespaces) {
        const meta = ns.body.metadata as { name?: string; labels?: Record<string, string> };
        const enforce = meta?.labels?.["pod-security.kubernetes.io/enforce"];
        if (enforce !== "restricted")
          out.push({
            key: `namespace:${ns.stack}:${meta?.name}`,
            path: ns.path,
            found: `namespace '${meta?.name}' (stack ${ns.stack}) enforces ${enforce ? `Pod Security '${enforce}'` : "no Pod Security level"}`,
            required: "label pod-security.kubernetes.io/enforce: restricted",
            fix: "create the namespace through the Zone construct (it sets enforce: restricted) and make its workloads comply",
          });
      }
      for (const z of m.zones) {
        const stack = ctx.resources.all.find((r) => r.path.startsWith(`${z.path}/`) || r.path === z.path)?.stack;
        if (stack && !byStackNs.has(`${stack} ${z.namespace}`))
          out.push({
            key: `zone:${z.id}`,
            path: z.path,
            found: `zone ${z.id} has no synthesized namespace '${z.namespace}'`,
            required: "every zone's namespace created with its Pod Security label",
            fix: "create the zone with the Zone construct",
          });
      }
      return out;
    },
  },
];
