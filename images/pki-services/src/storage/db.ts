/**
 * A tiny database port with two adapters: PostgreSQL through `pg` and PGlite. Only what the
 * services need: parameterised queries, transactions, migrations.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { MIGRATIONS } from "./migrations.js";

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

class PgliteDatabase implements Database {
  readonly kind = "pglite";
  constructor(private readonly db: PGlite) {}
  async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn({ query: async <U>(s: string, p?: unknown[]) => (await tx.query<U>(s, p)).rows }));
  }
  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

class PgDatabase implements Database {
  readonly kind = "postgres";
  constructor(private readonly pool: pg.Pool) {}
  async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const r = await fn({ query: async <U>(s: string, p?: unknown[]) => (await client.query(s, p)).rows as U[] });
      await client.query("COMMIT");
      return r;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

export interface OpenDatabaseOptions {
  /** postgres://… for PostgreSQL; otherwise a PGlite data directory ("memory://" for tests). */
  readonly url: string;
  /** pg pool size. @default 10 */
  readonly poolSize?: number;
  /** Migrations of a role's own store, applied after the shared ones (e.g. the RA's, ra/migrations.ts). */
  readonly migrations?: readonly Migration[];
}

export type Migration = (typeof MIGRATIONS)[number];

/** Opens the database and applies pending migrations. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  let db: Database;
  if (/^postgres(ql)?:\/\//.test(options.url)) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    pool.on("error", () => undefined); // a dropped idle client is replaced on next use
    db = new PgDatabase(pool);
  } else {
    db = new PgliteDatabase(await PGlite.create(options.url === "memory://" ? undefined : options.url));
  }
  await migrate(db, [...MIGRATIONS, ...(options.migrations ?? [])]);
  return db;
}

export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: number[] = [];
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      // Serialise concurrent starters (PostgreSQL); PGlite is single-connection anyway.
      if (db.kind === "postgres") await tx.query("SELECT pg_advisory_xact_lock(4242001)");
      const done = await tx.query(`SELECT 1 FROM schema_migrations WHERE version = $1`, [m.version]);
      if (done.length) return;
      for (const stmt of m.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) await tx.query(stmt);
      await tx.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    });
  }
  return applied;
}

export const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));
