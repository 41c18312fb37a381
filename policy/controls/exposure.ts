/** What the CA shows the outside world: who may reach which component, and the URLs its
 *  certificates point relying parties to (NCSSR 1.1, 1.2; BR 7.1.2.7, RFC 5280 4.2.1.13, 4.2.2.1). */
import { isPrivate, prefixLength } from "../net.js";
import type { Control, FindingInput } from "../types.js";

/** Host names a relying party outside LANIC cannot resolve (cluster-internal, private suffixes). */
const INTERNAL_HOST = /(^localhost$|\.svc$|\.svc\.|\.cluster\.local$|\.local$|\.internal$|\.lan$|\.intranet$|\.corp$|\.home\.arpa$)/;
/** Government networks broader than this are not a network of the government but a large part
 *  of the internet. */
const MIN_GOVERNMENT_PREFIX = 8;

/** What is wrong with a URL placed in certificates, or undefined. */
export function certificateUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `'${url}' is not a URL`;
  }
  // BR 7.1.2.11.2 / 7.1.2.7.7, RFC 5280 4.2.1.13: CRL and OCSP over plain HTTP (a TLS URL would
  // need revocation checking to fetch revocation information).
  if (u.protocol !== "http:") return `'${url}' is ${u.protocol.replace(":", "")}, not plain http`;
  if (u.port && u.port !== "80") return `'${url}' uses port ${u.port}: relying parties behind firewalls reach port 80 only`;
  const host = u.hostname;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return `'${url}' names the IP address ${host}, not a host name${isPrivate(`${host}/32`) ? " (a private address)" : ""}`;
  if (!host.includes(".")) return `'${url}' names the single-label host '${host}', which only resolves inside a network`;
  if (INTERNAL_HOST.test(host)) return `'${url}' names the internal host '${host}', which relying parties cannot resolve`;
  return undefined;
}

export const EXPOSURE_CONTROLS: Control[] = [
  {
    id: "LCA-NET-06",
    title: "Only components meant to face the internet are reachable from it; the RA front end from government networks only",
    rfc3647: "6.7",
    references: ["NCSSR 1.1.1", "NCSSR 1.2.2", "BR 4.10.2"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "The repository, the OCSP responder and the RA's applicant pages are meant to face the internet (BR 2.2, 4.10.2, RFC 6960); every other component is reached from inside only. The RA front end admits the government networks it names, and a 'government network' wider than a /8 — 0.0.0.0/0 above all — is the internet under another name (NCSSR 1.1.1 zones, 1.2.2 least access).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m) {
      const out: FindingInput[] = [];
      const comp = new Map(m.components.map((c) => [c.id, c]));
      for (const f of m.flows) {
        if (f.from.type !== "external" || f.to.type !== "component") continue;
        const c = comp.get(f.to.id);
        const publicCidrs = f.from.cidrs.filter((x) => !isPrivate(x));
        const fromInternet = f.from.kind === "internet" || publicCidrs.length > 0;
        if (fromInternet && c && !c.internetFacing)
          out.push({
            key: `internet:${c.id}:${f.port}`,
            path: f.path,
            found: `${c.id} (${c.kind}, ${c.zone} zone) is reachable on port ${f.port} from ${publicCidrs.join(", ") || f.from.name} (${f.purpose})`,
            required: "from the internet, only the repository, the OCSP responder and the RA's applicant pages",
            fix: `remove the flow, or narrow its sources to the networks that need ${c.id}`,
          });
        if (f.from.kind === "government-network")
          for (const cidr of f.from.cidrs) {
            const len = prefixLength(cidr);
            if (len === null || len < MIN_GOVERNMENT_PREFIX)
              out.push({
                key: `government-network:${f.site}:${f.to.id}:${cidr}`,
                path: f.path,
                found: `'${cidr}' is declared a government network for ${f.to.id}${len === 0 ? ": that is every address on the internet" : ""}`,
                required: `government networks as the ministries' address ranges, each /${MIN_GOVERNMENT_PREFIX} or narrower`,
                fix: "list the government networks' address ranges in ra.governmentNetworks (from the GovNet allocation)",
              });
          }
      }
      return out;
    },
  },
  {
    id: "LCA-URL-01",
    title: "CRL, AIA and OCSP URLs are plain http, public, and point at the repository and VA the topology publishes",
    rfc3647: "7.1.2",
    references: ["BR 7.1.2.7", "BR 7.1.2.11.2", "BR 4.10.2", "RFC 5280 4.2.1.13", "RFC 5280 4.2.2.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale:
      "Every certificate tells relying parties where to fetch its issuer (AIA caIssuers), its CRL (CRL distribution point) and its OCSP status. These URLs are plain http (BR 7.1.2.11.2, RFC 5280 4.2.1.13: no TLS loop), name hosts relying parties can resolve (no cluster-internal or private name), and resolve to what the topology serves: the repository's base URL (certs/<ca>.der, crl/<ca>.crl) and the VA's URL, with an internet-facing repository and OCSP responder at every site (BR 4.10.2).",
    basis: "must",
    owner: "repository-operator",
    exceptions: { tiers: ["dev"], approvers: ["security-officer", "ca-chief-officer"] },
    check(m, ctx) {
      const out: FindingInput[] = [];
      const { repositoryBaseUrl, ocspUrl } = m.environment.publication;
      const repo = repositoryBaseUrl.replace(/\/$/, "");
      const published = (kind: string) =>
        m.components.some((c) => c.kind === kind && c.internetFacing && m.flows.some((f) => f.to.type === "component" && f.to.id === c.id && f.from.type === "external" && f.from.kind === "internet"));
      for (const [what, url] of [
        ["repository base URL", repositoryBaseUrl],
        ["OCSP URL", ocspUrl],
      ] as const) {
        const p = certificateUrlProblem(url);
        if (p)
          out.push({
            key: `publication:${what === "OCSP URL" ? "ocsp" : "repository"}`,
            path: m.environment.name,
            found: `${what}: ${p}`,
            required: "http:// and a public host name",
            fix: `set ${what === "OCSP URL" ? "va.url" : "repository.baseUrl"} to the public http:// name LANIC's DNS publishes`,
          });
      }
      if (!published("repository"))
        out.push({
          key: "served:repository",
          path: m.environment.name,
          found: `no internet-facing repository serves ${repositoryBaseUrl}`,
          required: "the repository reachable from the internet (BR 4.10.2)",
          fix: "build the Repository construct at every site",
        });
      for (const ca of m.environment.cas) {
        if (!ca.urls) continue;
        const expect = { crl: `${repo}/crl/${ca.name}.crl`, caIssuers: `${repo}/certs/${ca.name}.der` };
        for (const [field, url] of Object.entries(ca.urls) as [keyof typeof ca.urls, string][]) {
          const p = certificateUrlProblem(url);
          if (p) {
            out.push({
              key: `ca:${ca.name}:${field}`,
              path: m.environment.name,
              found: `${field} URL of ${ca.name}: ${p}`,
              required: "plain http:// to a public host name",
              fix: `publish ${field === "ocsp" ? "va.url" : "repository.baseUrl"} under a public http:// name`,
            });
            continue;
          }
          if (field === "ocsp") {
            if (url !== ocspUrl)
              out.push({
                key: `ca:${ca.name}:ocsp`,
                path: m.environment.name,
                found: `${ca.name} points OCSP at ${url}, not the VA's ${ocspUrl}`,
                required: "the AIA OCSP URL is the VA the topology publishes",
                fix: "derive the URL from va.url",
              });
            else if (!published("ocsp-responder"))
              out.push({
                key: `served:ocsp:${ca.name}`,
                path: m.environment.name,
                found: `${ca.name} points OCSP at ${url} but no internet-facing OCSP responder serves it`,
                required: "an OCSP responder reachable from the internet",
                fix: "build the ValidationAuthority at every site",
              });
          } else if (url !== expect[field])
            out.push({
              key: `ca:${ca.name}:${field}`,
              path: m.environment.name,
              found: `${field} URL of ${ca.name} is ${url}; the repository publishes it at ${expect[field]}`,
              required: `under the repository base URL ${repositoryBaseUrl}`,
              fix: "derive the URL from repository.baseUrl (caUrls)",
            });
        }
      }
      // What the running CAs will put in certificates: the URLs in each CA's synthesized config.
      for (const r of ctx.resources.ofType("kubernetes_config_map_v1")) {
        const json = (r.body.data as Record<string, string> | undefined)?.["ca-config.json"];
        if (!json) continue;
        let config: { name?: string; urls?: Record<string, string> };
        try {
          config = JSON.parse(json);
        } catch {
          continue;
        }
        const model = m.environment.cas.find((c) => c.name === config.name)?.urls as Record<string, string> | undefined;
        for (const [field, url] of Object.entries(config.urls ?? {}))
          if (model?.[field] !== url)
            out.push({
              key: `config:${r.stack}:${config.name}:${field}`,
              path: r.path,
              found: `the ${config.name} configuration (stack ${r.stack}) puts ${field} ${url} in certificates; the model says ${model?.[field] ?? "none"}`,
              required: "the URLs the topology publishes",
              fix: "generate the CA configuration from the environment (issuingCaServiceConfig)",
            });
      }
      return out;
    },
  },
];
