/** The image's base is pinned by a digest of the published node:20-bookworm-slim image. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dockerfile = readFileSync(join(import.meta.dirname, "..", "Dockerfile"), "utf8");

describe("pki-services Dockerfile", () => {
  const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];

  it("pins node:20-bookworm-slim by a sha256 digest", () => {
    expect(arg).toMatch(/^node:20(\.\d+){0,2}-bookworm-slim@sha256:[0-9a-f]{64}$/);
    // the placeholder written without registry access is gone
    expect(arg).not.toContain("4e1e5e1d3ab2ad0b7b1e2c1b9e5d1d5c");
  });

  it("builds both stages from that pinned image and says how to refresh it", () => {
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS (build|runtime)$/gm)).toHaveLength(2);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain("docker buildx imagetools inspect node:20-bookworm-slim");
  });
});
