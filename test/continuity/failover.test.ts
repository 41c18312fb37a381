/** `lanic-ca failover`: the environment edit, its refusals, the round trip, and that the
 *  failed-over topology is the promoted one and still passes the CP/CPS controls. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import production from "../../environments/production.js";
import staging from "../../environments/staging.js";
import { planFailover } from "../../scripts/continuity/failover.js";
import { build, check, cleanup } from "../policy/fixtures.js";

afterAll(cleanup);
const file = join(import.meta.dirname, "../../environments/production.ts");
const text = readFileSync(file, "utf8");

describe("lanic-ca failover", () => {
  it("swaps the two sites' roles and nothing else; failing back restores the file byte for byte", () => {
    const plan = planFailover(file, text, production, "backup");
    expect(plan).toMatchObject({ environment: "production", from: "lanic", to: "backup" });
    const changed = plan.text.split("\n").filter((l, i) => l !== text.split("\n")[i]);
    expect(changed).toEqual([
      '    { name: "lanic", role: "backup", location: LANIC_LOCATION, kubernetes: kube("lanic-ca-prod-vte", "10.100.0.0/16", "https://api.ca-prod-vte.k8s.lanic.gov.la:6443") },',
      '    { name: "backup", role: "primary", location: BACKUP_LOCATION, kubernetes: kube("lanic-ca-prod-lpq", "10.140.0.0/16", "https://api.ca-prod-lpq.k8s.lanic.gov.la:6443") },',
    ]);
    const swapped = { ...production, sites: production.sites.map((s) => ({ ...s, role: s.role === "primary" ? ("backup" as const) : ("primary" as const) })) };
    expect(planFailover(file, plan.text, swapped, "lanic").text).toBe(text);
  });

  it.each([
    ["an unknown site", production, "vientiane-2", "no site 'vientiane-2' in environment 'production'; sites: lanic, backup"],
    ["the primary itself", production, "lanic", "site 'lanic' is already the primary of 'production'; nothing to fail over"],
    [
      "a target without replication addresses",
      { ...production, database: { ...production.database, replicationAddresses: { lanic: production.database.replicationAddresses.lanic } } },
      "backup",
      "database.replicationAddresses.backup is missing: the 'lanic' clusters would have nothing to stream from after the failover",
    ],
    ["an environment without a backup site", staging, "lanic", "site 'lanic' is already the primary of 'staging'; nothing to fail over"],
  ])("refuses %s with the file and the reason", (_n, env, to, message) => {
    expect(() => planFailover(file, text, env as never, to)).toThrow(`${file}: ${message}`);
  });

  it("the failed-over production: backup site's clusters promoted, standbys up, CronJobs resumed, LANIC a replica; every control passes", () => {
    const b = build("production", (d) => {
      for (const s of d.sites) s.role = s.role === "primary" ? "backup" : "primary";
    });
    const at = (site: string) => b.model.components.filter((c) => c.site === site);
    expect(
      at("backup")
        .filter((c) => c.kind === "database")
        .map((c) => [c.id, c.standby]),
    ).toEqual([
      ["backup/lanic-ca-db", false],
      ["backup/lanic-ca-ra-db", false],
      ["backup/lanic-ca-tsa-db", false],
    ]);
    expect(
      at("lanic")
        .filter((c) => c.kind === "database")
        .map((c) => [c.id, c.standby]),
    ).toEqual([
      ["lanic/lanic-ca-db", true],
      ["lanic/lanic-ca-ra-db", true],
      ["lanic/lanic-ca-tsa-db", true],
    ]);
    expect(
      at("backup")
        .filter((c) => c.signing && c.runsAs === "Deployment")
        .every((c) => !c.standby && c.replicas === 2),
    ).toBe(true);
    expect(
      at("backup")
        .filter((c) => c.runsAs === "CronJob" && c.kind === "crl-publisher")
        .every((c) => !c.standby),
    ).toBe(true);
    expect(
      at("lanic")
        .filter((c) => c.signing && c.runsAs !== "none")
        .every((c) => c.standby && c.replicas === 0),
    ).toBe(true);
    // LANIC's replicas stream from the backup site's addresses
    expect(b.model.flows.some((f) => f.site === "lanic" && f.to.type === "external" && f.to.kind === "replication" && f.to.cidrs.includes("10.40.50.10/32"))).toBe(true);
    const open = check(b)
      .results.flatMap((x) => x.findings)
      .filter((f) => f.severity === "error");
    expect(open).toEqual([]);
  });
});
