import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The lowest port of the kernel's ephemeral range: outgoing connections and `listen(0)` take
 *  their ports from it (Linux: net.ipv4.ip_local_port_range, 32768 by default; IANA's range
 *  starts at 49152, which is above it). */
export function ephemeralLow(rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"): number {
  try {
    const low = Number(readFileSync(rangeFile, "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024 && low <= 65535) return low;
  } catch {
    // not Linux, or no /proc: the Linux default
  }
  return 32768;
}

const LOWEST = 10000;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" || err.code === "EACCES" ? resolve(false) : reject(err)));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A free loopback TCP port for a server that starts later (lab servers, tests, benches).
 *  It is drawn at random from below the ephemeral range and checked free: a port the kernel
 *  hands out for `listen(0)` comes from the ephemeral range, where any client socket opened in
 *  the meantime may take it before the server binds it (seen as EADDRINUSE in a lab started
 *  beside other tests). */
export async function freePort(range: { low: number; high: number } = { low: LOWEST, high: ephemeralLow() }): Promise<number> {
  const { low, high } = range;
  if (!(Number.isInteger(low) && Number.isInteger(high) && low > 1024 && low < high && high <= 65536))
    throw new Error(`no loopback port range ${low}-${high - 1}: it must lie within 1025-65535 (the ephemeral range starts at ${ephemeralLow()})`);
  for (let i = 0; i < 200; i++) {
    const port = randomInt(low, high);
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${low}-${high - 1} after 200 tries`);
}
