/** IPv4 helpers for the network controls. */

export function ipv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return null;
  return ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
}

/** The prefix length of `a.b.c.d/n`, or null. */
export function prefixLength(cidr: string): number | null {
  const [addr, len] = cidr.split("/");
  if (ipv4(addr) === null || len === undefined || !/^\d+$/.test(len) || Number(len) > 32) return null;
  return Number(len);
}

/** True when the address (or every address of the CIDR) `inner` is inside CIDR `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [oa, ol] = outer.split("/");
  const [ia, il = "32"] = inner.split("/");
  const o = ipv4(oa),
    i = ipv4(ia);
  if (o === null || i === null || ol === undefined || Number(il) < Number(ol)) return false;
  const mask = Number(ol) === 0 ? 0 : (~0 << (32 - Number(ol))) >>> 0;
  return (o & mask) >>> 0 === (i & mask) >>> 0;
}

/** RFC 1918 private, loopback or link-local. */
export function isPrivate(cidr: string): boolean {
  return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16"].some((p) => cidrContains(p, cidr));
}
