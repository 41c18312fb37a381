/**
 * The contract between the IaC and the signing services: every command line the stacks give the
 * pki-services image is one its CLI accepts (the role exists, every option is known). Run against
 * the compiled CLI; the services then stop at the first thing only a cluster has (config file,
 * PIN, HSM), which is the point: not at their arguments.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../environments/index.js";
import { resources, synthStack, topology } from "./helpers.js";

const MAIN = join(import.meta.dirname, "../../images/pki-services/dist/main.js");

describe("pki-services command lines in the stacks", () => {
  const t = topology(loadEnvironment("production"));
  const lines = new Map<string, string[]>();
  for (const s of t.stacks) {
    const { tf } = synthStack(s);
    for (const [, d] of resources(tf, "kubernetes_deployment_v1")) {
      const c = d.spec.template.spec.container[0];
      if (c.image.includes("/pki-services")) lines.set(d.metadata.name, c.args);
    }
    for (const [, j] of resources(tf, "kubernetes_cron_job_v1")) {
      const c = j.spec.job_template.spec.template.spec.container[0];
      if (c.image.includes("/pki-services")) lines.set(j.metadata.name, c.args);
    }
  }

  it("covers every role the topology runs", () => {
    expect(existsSync(MAIN), "build first: npx tsc -b").toBe(true);
    expect(new Set([...lines.values()].map((a) => a[0]))).toEqual(new Set(["repository", "ocsp-responder", "ra", "issuing-ca", "crl-publisher", "audit", "tsa"]));
  });

  it.each([...new Set(["issuing-ca", "crl-publisher", "ocsp-responder", "repository", "audit", "ra", "tsa"])])("the CLI accepts the '%s' command lines", (role) => {
    for (const [name, args] of lines) {
      if (args[0] !== role) continue;
      // No PIN, no config file, no database: it must fail on those, never on its arguments.
      // A server with nothing missing (the repository) starts and is stopped after 4 s: accepted.
      const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 4_000, env: { PATH: process.env.PATH, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(out, `${name}: ${args.join(" ")}`).not.toMatch(/Unknown option|unknown role|usage:|ERR_PARSE_ARGS/i);
    }
  });
});
