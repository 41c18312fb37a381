/**
 * A tiny database port with two adapters: PostgreSQL through `pg` and PGlite. Only what the
 * services need: parameterised queries, transactions, migrations.
 */
import { existsSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
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
    // A checked-out client has no pool listener: the server dying under it emits `error` on the
    // client, which would crash the process. The failure reaches the caller through the query
    // that fails; the broken client is discarded on release.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const r = await fn({ query: async <U>(s: string, p?: unknown[]) => (await client.query(s, p)).rows as U[] });
      await client.query("COMMIT");
      return r;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      broken ??= isConnectionError(err) ? (err as Error) : undefined;
      throw err;
    } finally {
      client.off("error", onError);
      client.release(broken);
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

/** The database (or the connection to it) is gone: callers answer 503, not 500. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnavailableError";
  }
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);
/** True for an error that means the server or the connection is away (node codes, SQLSTATE
 *  class 08 and 57P0x, pg's own "Connection terminated" errors). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code && CONNECTION_CODES.has(e.code)) return true;
  return /Connection terminated|Client has encountered a connection error|connection timeout|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i.test(e?.message ?? "");
}

const LIBPQ_TLS = [
  ["sslmode", "PGSSLMODE"],
  ["sslcert", "PGSSLCERT"],
  ["sslkey", "PGSSLKEY"],
  ["sslrootcert", "PGSSLROOTCERT"],
] as const;
/** libpq's TLS environment (`PGSSLMODE`, `PGSSLCERT`, `PGSSLKEY`, `PGSSLROOTCERT`, as the
 *  deployment sets them: ADR 0036) added to a URL that names none of these parameters;
 *  node-postgres itself reads only PGSSLMODE, and a URL's own parameters win over the environment. */
export function withLibpqTls(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  const given = new URLSearchParams(query);
  if (LIBPQ_TLS.some(([param]) => given.has(param))) return url;
  const add = LIBPQ_TLS.filter(([, name]) => env[name]).map(([param, name]) => `${param}=${encodeURIComponent(env[name]!)}`);
  return add.length ? `${url}${query ? "&" : url.includes("?") ? "" : "?"}${add.join("&")}` : url;
}

/** Opens the database and applies pending migrations (`migrate: false`: opens an existing one
 *  as it is, creating nothing). */
export async function openDatabase(options: OpenDatabaseOptions & { readonly migrate?: boolean }): Promise<Database> {
  let db: Database;
  if (/^postgres(ql)?:\/\//.test(options.url)) {
    const pool = new pg.Pool({ connectionString: withLibpqTls(options.url), max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    pool.on("error", () => undefined); // a dropped idle client is replaced on next use
    db = new PgDatabase(pool);
  } else {
    if (options.url !== "memory://") {
      let st: Stats | undefined;
      try {
        st = statSync(options.url);
      } catch {
        if (options.migrate === false) throw new Error(`no database at ${options.url}: not a PostgreSQL URL, and no PGlite data directory there`);
      }
      if (st && !st.isDirectory()) throw new Error(`the database path ${options.url} is a file, not a PGlite data directory (nor a postgres:// URL)`);
      if (st && options.migrate === false && !existsSync(join(options.url, "PG_VERSION"))) throw new Error(`${options.url} is not a PGlite data directory (no PG_VERSION in it)`);
    }
    try {
      db = new PgliteDatabase(await PGlite.create(options.url === "memory://" ? undefined : options.url));
    } catch (err) {
      throw new Error(`the PGlite database at ${options.url} cannot be opened: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  if (options.migrate !== false) await migrate(db, [...MIGRATIONS, ...(options.migrations ?? [])]);
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
      for (const stmt of m.sql
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.query(stmt);
      await tx.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    });
  }
  return applied;
}

export const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));
