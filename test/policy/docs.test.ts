import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogTable } from "../../policy/report/catalog.js";

describe("docs/policy.md", () => {
  it("holds the controls table generated from the catalog", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../docs/policy.md"), "utf8");
    const table = doc.slice(doc.indexOf("-->", doc.indexOf("<!-- controls:start")) + 4, doc.indexOf("<!-- controls:end -->"));
    expect(table).toBe(catalogTable());
  });
});
