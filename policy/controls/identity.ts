/** What an environment is: its tier, derived from its CAs and publication, and the clusters it
 *  is applied to (CP/CPS 1.1, 5.1; NCSSR 1.1.1, 1.3). */
import { DEFINITIONS } from "../../environments/definitions.js";
import type { Tier } from "../../environments/schema.js";
import type { TopologyJson } from "../../constructs/model.js";
import type { Control, FindingInput } from "../types.js";

/** A word that tells a relying party the CA is not the real one. */
const TEST_MARKER = /\b(dev|development|staging|stage|stg|test|testing|lab|rehearsal|sandbox|demo)\b/i;

/** Why an environment is production, whatever its declared tier: what it issues is trusted or
 *  looks like the government's real CA to a relying party. Empty when nothing says so. */
export function productionReasons(m: TopologyJson): string[] {
  const out: string[] = [];
  if (m.environment.rootOfTrust === "external") out.push("its issuing CAs chain to an external, already-trusted root");
  for (const ca of m.environment.cas) if (ca.subject && !TEST_MARKER.test(`${ca.subject.CN} ${ca.subject.O}`)) out.push(`CA '${ca.name}' is named '${ca.subject.CN}' (${ca.subject.O}), with nothing marking it a test CA`);
  for (const [what, url] of [
    ["repository", m.environment.publication.repositoryBaseUrl],
    ["OCSP", m.environment.publication.ocspUrl],
  ] as const) {
    let host = url;
    try {
      host = new URL(url).hostname;
    } catch {
      /* reported by LCA-URL-01 */
    }
    if (!host.split(".").some((label) => TEST_MARKER.test(label))) out.push(`its ${what} is published at ${host}, a production name`);
  }
  return out;
}

export const IDENTITY_CONTROLS: Control[] = [
  {
    id: "LCA-TIER-01",
    title: "The tier follows from what the environment is",
    rfc3647: "1.1",
    references: ["NCSSR 1.3", "BR 6.2.7", "MRSP 2.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "The tier decides which controls apply, so it cannot be self-declared: an environment whose CAs chain to a trusted root, or whose CA names and publication URLs are the government's real ones, is production whatever it says, and is charged with every production control. A tier change is a high-class change in the review diff.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: "never",
    check(m) {
      if (m.environment.tier === "production") return [];
      const reasons = productionReasons(m);
      if (reasons.length === 0) return [];
      return [
        {
          key: "tier",
          path: m.environment.name,
          found: `tier ${m.environment.tier}, but the environment is production: ${reasons.join("; ")}`,
          required: "tier production for an environment that issues under a trusted root or the government's real CA names and URLs",
          fix: `set tier: "production" in environments/${m.environment.name}.ts (and meet the production controls), or make it a test environment: test names for its CAs and test host names for its repository and OCSP`,
        },
      ];
    },
  },
  {
    id: "LCA-CLU-01",
    title: "Each site is its own cluster; environments of different tiers never share one",
    rfc3647: "5.1",
    references: ["NCSSR 1.1.1", "NCSSR 1.1.3", "BR 5.7.1.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "Two sites on one cluster are one failure (BR 5.7.1.1): a backup site must be a different cluster. A production cluster shared with a staging or dev environment lets less-controlled workloads and people run next to the CA (NCSSR 1.1.1 zones, 1.1.3 separate development and production). Identity is the API server (kubeconfig `server`), required outside dev, since two contexts can name one cluster; each stack's provider uses its site's context.",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const env = m.environment;
      const seen = new Map<string, string>();
      for (const s of env.sites) {
        if (!s.cluster) continue;
        if (env.tier !== "dev" && !s.cluster.server)
          out.push({
            key: `server:${s.name}`,
            path: env.name,
            found: `site '${s.name}' names kubeconfig context '${s.cluster.context}' but not its cluster's API server`,
            required: "sites.kubernetes.server recorded outside dev (the cluster's identity)",
            fix: `set sites[${s.name}].kubernetes.server to the cluster's API server URL (kubectl config view -o jsonpath='{.clusters[?(@.name=="…")].cluster.server}')`,
          });
        for (const id of [`context ${s.cluster.configPath}#${s.cluster.context}`, ...(s.cluster.server ? [`server ${s.cluster.server}`] : [])]) {
          const other = seen.get(id);
          if (other)
            out.push({
              key: `shared:${other}:${s.name}`,
              path: env.name,
              found: `sites '${other}' and '${s.name}' are the same cluster (${id})`,
              required: "every site on its own cluster",
              fix: `give site '${s.name}' its own cluster (kubernetes.context and server)`,
            });
          else seen.set(id, s.name);
        }
        const provider = ((ctx.resources.stacks[`${env.name}-${s.name}`]?.provider ?? {}) as Record<string, { config_context?: string }[]>).kubernetes?.[0];
        if (provider && provider.config_context !== s.cluster.context)
          out.push({
            key: `provider:${s.name}`,
            path: `${env.name}-${s.name}`,
            found: `stack ${env.name}-${s.name} applies to context '${provider.config_context}', not the site's '${s.cluster.context}'`,
            required: "each stack applied to its own site's cluster",
            fix: "build the stack with SiteStack (it sets the provider from the site)",
          });
      }
      // Other shipped environments: a cluster shared across tiers.
      for (const [name, def] of Object.entries(DEFINITIONS)) {
        if (name === env.name || def.tier === env.tier) continue;
        for (const o of def.sites)
          for (const s of env.sites) {
            if (!s.cluster) continue;
            const sameServer = !!s.cluster.server && s.cluster.server === o.kubernetes.server;
            const sameContext = s.cluster.context === o.kubernetes.context && s.cluster.configPath === (o.kubernetes.configPath ?? "~/.kube/config");
            if (sameServer || sameContext)
              out.push({
                key: `tier-shared:${s.name}:${name}/${o.name}`,
                path: env.name,
                found: `site '${s.name}' (${env.tier}) is on the cluster of ${name}/${o.name} (${def.tier as Tier}): ${sameServer ? `server ${s.cluster.server}` : `context ${s.cluster.context}`}`,
                required: "environments of different tiers on different clusters",
                fix: `give ${env.name}'s site '${s.name}' a cluster of its own tier`,
              });
          }
      }
      return out;
    },
  },
];
