/**
 * Reconciliation with several issuing-ca replicas on one database: a live replica's in-flight
 * intent must not be revoked by another replica's start-up; an orphaned (old) intent is.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/storage/db.js";
import { CertificateStore } from "../src/storage/store.js";

describe("reconcile with a grace period", async () => {
  const db = await openDatabase({ url: "memory://" });
  afterAll(() => db.close());
  const insert = (serial: string, ageSeconds: number) =>
    db.query(
      `INSERT INTO certificates (serial, ca_name, profile, status, subject, tbs, not_before, not_after, created_at)
       VALUES ($1, 'ca-1', 'tls-server', 'intent', 'CN=x', $2, now(), now() + interval '1 day', now() - make_interval(secs => $3))`,
      [serial, Buffer.from([0x30, 0x00]), ageSeconds],
    );

  it("leaves young intents (another replica in flight) and revokes orphaned ones", async () => {
    await insert("0a", 600); // orphaned by a replica that died ten minutes ago
    await insert("0b", 1); // in flight on a live replica
    const store = new CertificateStore(db, "ca-1");
    expect(await store.reconcile("system", 120)).toEqual(["0a"]);
    expect((await store.get("0a"))?.status).toBe("revoked");
    expect((await store.get("0a"))?.reconciled).toBe(true);
    expect((await store.get("0b"))?.status).toBe("intent");
    // A single instance restarting (grace 0) reconciles everything it left.
    expect(await store.reconcile("system", 0)).toEqual(["0b"]);
  });
});
