/**
 * A throwaway PostgreSQL 15 server for tests: initdb + pg_ctl on a temp dir and a free loopback
 * port. initdb refuses to run as root, so as root the server runs as the `postgres` user
 * (created by the Debian postgresql-15 package) through runuser.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./helpers.js";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PgServer {
  readonly url: string;
  /** The same database as the superuser through the Unix socket (pg_hba `local`). */
  readonly socketUrl: string;
  stop(): void;
  /** Kills the server (immediate shutdown, as a crash) and keeps its data. */
  pause(): void;
  /** Starts the paused server again on the same port and data. */
  resume(): void;
}

export interface PgServerOptions {
  /** Files written into the data directory (mode 0600, owned by the server's user): certificates, keys. */
  readonly files?: Record<string, string>;
  /** Extra `-c name=value` settings (e.g. ssl=on). */
  readonly settings?: string[];
  /** pg_hba.conf lines after `local all all trust` (default: initdb's trust for loopback). */
  readonly hba?: string[];
}

export async function startPostgres(options: PgServerOptions = {}): Promise<PgServer> {
  if (!existsSync(join(PG_BIN, "initdb"))) throw new Error(`PostgreSQL 15 binaries not found in ${PG_BIN}: apt-get install -y postgresql-15 (or set PG_BIN)`);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "pki-pg-"));
  const data = join(dir, "data");
  const sock = join(dir, "sock");
  mkdirSync(sock);
  let uid = 0;
  let gid = 0;
  if (root) {
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(sock, uid, gid);
  }
  const run = (bin: string, args: string[]) => (root ? execFileSync("runuser", ["-u", "postgres", "--", join(PG_BIN, bin), ...args], { stdio: "pipe" }) : execFileSync(join(PG_BIN, bin), args, { stdio: "pipe" }));
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const files = { ...options.files, ...(options.hba ? { "pg_hba.conf": ["local all all trust", ...options.hba, ""].join("\n") } : {}) };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(data, name), text, { mode: 0o600 });
    if (root) chownSync(join(data, name), uid, gid);
  }
  const port = await freePort();
  const extra = (options.settings ?? []).map((s) => ` -c ${s}`).join("");
  const opts = `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50${extra}`;
  run("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    socketUrl: `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(sock)}`,
    pause: () => void run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
    resume: () => void run("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start"]),
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
