/**
 * Ports for servers that start later (the lab, tests, benches) come from below the kernel's
 * ephemeral range, where no client socket or `listen(0)` can take them in the meantime.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ephemeralLow, freePort } from "../src/lab/ports.js";
import { tempDir } from "./helpers.js";

it("reads the ephemeral range's low end, and falls back to Linux's default on a missing or bad file", () => {
  const t = tempDir("ports-");
  try {
    const f = join(t.dir, "range");
    writeFileSync(f, "40000\t60999\n");
    expect(ephemeralLow(f)).toBe(40000);
    writeFileSync(f, "junk\n");
    expect(ephemeralLow(f)).toBe(32768);
    writeFileSync(f, "80\t60999\n");
    expect(ephemeralLow(f)).toBe(32768);
    expect(ephemeralLow(join(t.dir, "absent"))).toBe(32768);
  } finally {
    t.cleanup();
  }
});

it("gives ports below the ephemeral range that a server can then bind", async () => {
  const low = ephemeralLow();
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(10000);
    expect(port).toBeLessThan(low);
    ports.add(port);
    const s = createServer();
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((r) => s.close(() => r()));
  }
  // drawn at random: twenty draws from over 20,000 ports are not all one port
  expect(ports.size).toBeGreaterThan(1);
});

it("does not give a port that a server holds, and says so when every port in its range is held", async () => {
  const held = createServer();
  const port = await freePort();
  await new Promise<void>((r) => held.listen(port, "127.0.0.1", r));
  try {
    // a range of two ports, one of them held: every draw must give the other
    for (let i = 0; i < 20; i++) {
      const got = await freePort({ low: port, high: port + 2 });
      expect(got).toBe(port + 1);
    }
    // a host whose ephemeral range starts below 10000 leaves no range: named, not a RangeError
    await expect(freePort({ low: 10000, high: 5000 })).rejects.toThrow("no loopback port range 10000-4999: it must lie within 1025-65535");
    await expect(freePort({ low: port, high: port + 1 })).rejects.toThrow(`no free loopback port in ${port}-${port} after 200 tries`);
  } finally {
    await new Promise<void>((r) => held.close(() => r()));
  }
});
