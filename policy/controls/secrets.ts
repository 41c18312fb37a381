/** No secret value in any synthesized file. */
import type { Control, FindingInput } from "../types.js";

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
/** Environment variables that carry secrets must come from a Secret (valueFrom). */
const SECRET_ENV = /(PIN|PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|DATABASE_URL|CREDENTIAL)/i;
/** Provider arguments that would embed credentials. */
const PROVIDER_SECRETS = ["token", "password", "client_key", "client_certificate", "cluster_ca_certificate"];

/** Depth-first over a JSON value; `path` is shared and mutated (copy it to keep it). */
function walk(v: unknown, visit: (path: string[], value: unknown) => void, path: string[] = []): void {
  visit(path, v);
  if (Array.isArray(v))
    for (let i = 0; i < v.length; i++) {
      path.push(String(i));
      walk(v[i], visit, path);
      path.pop();
    }
  else if (v && typeof v === "object")
    for (const k in v as object) {
      path.push(k);
      walk((v as Record<string, unknown>)[k], visit, path);
      path.pop();
    }
}

export const SECRET_CONTROLS: Control[] = [
  {
    id: "LCA-SEC-01",
    title: "No secret value in any synthesized file",
    rfc3647: "6.4.2",
    references: ["BR 6.4.2", "NCSSR 2.2.1"],
    severity: "error",
    tiers: ["dev", "staging", "production"],
    rationale: "PINs, passwords and keys live in Secrets created out of band; the IaC names them only. cdk.tf.json is stored and reviewed in clear, so a value there is disclosed (BR 6.4.2 activation data protection).",
    basis: "must",
    owner: "infrastructure-engineer",
    exceptions: "never",
    check(_m, ctx) {
      const out: FindingInput[] = [];
      for (const r of ctx.resources.all) {
        if (/secret/.test(r.type)) {
          const b = r.body as Record<string, unknown>;
          for (const k of ["data", "binary_data", "string_data", "data_wo"])
            if (b[k] !== undefined && Object.keys(b[k] as object).length > 0)
              out.push({
                key: `secret:${r.stack}:${r.name}`,
                path: r.path,
                found: `${r.type} '${r.name}' carries ${k}`,
                required: "Secrets created out of band; the IaC only references them",
                fix: "remove the Secret resource; reference it by name",
              });
        }
        walk(r.body, (path, value) => {
          if (typeof value === "string" && value.length > 30 && value.includes("PRIVATE KEY") && PRIVATE_KEY.test(value))
            out.push({
              key: `pem:${r.stack}:${r.name}:${path.join(".")}`,
              path: r.path,
              found: `a private key in ${r.type}.${path.join(".")}`,
              required: "no key material in synthesized files",
              fix: "keep keys in the HSM or in Secrets created out of band",
            });
          if (path[path.length - 2] === "env" && value && typeof value === "object") {
            const e = value as { name?: string; value?: string; value_from?: unknown };
            if (e.name && SECRET_ENV.test(e.name) && e.value !== undefined && e.value_from === undefined)
              out.push({
                key: `env:${r.stack}:${r.name}:${e.name}`,
                path: r.path,
                found: `environment variable ${e.name} set to a literal value in ${r.type}`,
                required: "secret environment variables come from a Secret (valueFrom.secretKeyRef)",
                fix: `workload.addEnv('${e.name}', { secret, key })`,
              });
          }
        });
      }
      for (const [stack, tf] of Object.entries(ctx.resources.stacks)) {
        const providers = (tf.provider ?? {}) as Record<string, Record<string, unknown>[]>;
        for (const [name, list] of Object.entries(providers))
          for (const p of Array.isArray(list) ? list : [list])
            for (const k of PROVIDER_SECRETS)
              if (p && (p as Record<string, unknown>)[k] !== undefined)
                out.push({
                  key: `provider:${stack}:${name}:${k}`,
                  path: stack,
                  found: `provider ${name} in stack ${stack} sets ${k}`,
                  required: "providers configured by kubeconfig path and context only",
                  fix: `remove ${k}; use config_path and config_context`,
                });
      }
      return out;
    },
  },
];
