/** The image's base is pinned by a digest of the published node:24-bookworm-slim image, and names
 *  the Node version CI runs the suite on (scripts/image-node.sh, docs/adr/0084-node-24-runtime.md). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const dockerfile = readFileSync(join(root, "images", "pki-services", "Dockerfile"), "utf8");

describe("pki-services Dockerfile", () => {
  const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  const version = /^# node-version: (\S+)$/m.exec(dockerfile)?.[1];

  it("pins node:24-bookworm-slim by a sha256 digest (Node 20 is past its end of life)", () => {
    expect(arg).toMatch(/^node:24(\.\d+){0,2}-bookworm-slim@sha256:[0-9a-f]{64}$/);
    // the placeholder written without registry access is gone
    expect(arg).not.toContain("4e1e5e1d3ab2ad0b7b1e2c1b9e5d1d5c");
  });

  it("names the image's Node version, of the image's major, for CI to test on", () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version?.split(".")[0]).toBe(/^node:(\d+)/.exec(arg ?? "")?.[1]);
  });

  it("builds both stages from that pinned image and says how to refresh it", () => {
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS (build|runtime)$/gm)).toHaveLength(2);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain("docker buildx imagetools inspect node:24-bookworm-slim");
  });

  it("scripts/image-node.sh refuses a Dockerfile without a node-version line, naming the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "image-node-"));
    try {
      mkdirSync(join(dir, "scripts"));
      mkdirSync(join(dir, "images", "pki-services"), { recursive: true });
      cpSync(join(root, "scripts", "image-node.sh"), join(dir, "scripts", "image-node.sh"));
      writeFileSync(join(dir, "images", "pki-services", "Dockerfile"), dockerfile.replace(/^# node-version: .*\n/m, ""));
      let err: { status: number; stderr: Buffer } | undefined;
      try {
        execFileSync("bash", [join(dir, "scripts", "image-node.sh")], { stdio: "pipe" });
      } catch (e) {
        err = e as { status: number; stderr: Buffer };
      }
      expect(err?.status).toBe(1);
      expect(err?.stderr.toString()).toBe(`image-node: ${join(dir, "images", "pki-services", "Dockerfile")} has no '# node-version: X.Y.Z' line\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
