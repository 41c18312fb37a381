import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "images/pki-services/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two cores: e2e tests start SoftHSM sessions and PostgreSQL servers.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
