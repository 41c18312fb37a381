/** JUnit XML (`policy/<env>.junit.xml`): one test case per control × environment. */
import type { PolicyResult } from "../types.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function junitReport(results: PolicyResult[]): string {
  const suites = results.map((r) => {
    const cases = r.results.map((x) => {
      const name = `${x.control.id} ${x.control.title}`;
      const attrs = `classname="lanic-ca.policy.${esc(r.environment)}" name="${esc(name)}" time="0"`;
      if (x.status === "not-applicable") return `    <testcase ${attrs}>\n      <skipped message="${esc(x.note ?? "not applicable")}"/>\n    </testcase>`;
      const errors = x.findings.filter((f) => f.severity === "error");
      const body = x.findings.map((f) => `${f.id}\n  at ${f.path}\n  found: ${f.found}\n  required: ${f.required}\n  fix: ${f.fix}`).join("\n\n");
      const exc = x.excepted.map((f) => `excepted: ${f.id} (${f.found})`).join("\n");
      if (errors.length) return `    <testcase ${attrs}>\n      <failure message="${esc(`${errors.length} finding(s)`)}" type="${esc(x.control.id)}">${esc(body)}</failure>\n    </testcase>`;
      const out = [x.findings.length ? body : "", exc].filter(Boolean).join("\n");
      return `    <testcase ${attrs}>${out ? `\n      <system-out>${esc(out)}</system-out>\n    ` : ""}</testcase>`;
    });
    const failures = r.results.filter((x) => x.findings.some((f) => f.severity === "error")).length;
    const skipped = r.results.filter((x) => x.status === "not-applicable").length;
    return `  <testsuite name="lanic-ca policy: ${esc(r.environment)}" tests="${r.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${esc(r.evaluatedAt.slice(0, 19))}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  const tests = results.reduce((n, r) => n + r.results.length, 0);
  const failures = results.reduce((n, r) => n + r.results.filter((x) => x.findings.some((f) => f.severity === "error")).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="lanic-ca policy" tests="${tests}" failures="${failures}">\n${suites.join("\n")}\n</testsuites>\n`;
}
