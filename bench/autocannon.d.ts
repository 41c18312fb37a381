/** The part of autocannon's API the benches use (the package ships no type declarations). */
declare module "autocannon" {
  export interface AutocannonResult {
    requests: { average: number; total: number };
    latency: { p99: number; p50: number };
    errors: number;
    non2xx: number;
    timeouts: number;
    duration: number;
    "2xx": number;
  }
  export default function autocannon(options: Record<string, unknown>): Promise<AutocannonResult>;
}
