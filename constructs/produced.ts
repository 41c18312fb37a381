import { Token } from "./cdktf.js";
import type { IResolvable } from "cdktf";

/**
 * A value produced at synthesis, for lists that grants and flows fill after a resource is
 * created (env, mounts, NetworkPolicy rules). It must be written in the provider's Terraform
 * (snake_case) form. cdktf's `Lazy.anyValue` does the same but records a full stack trace per
 * value, which made synth several times slower than the cdktf import floor (bench/synth.ts).
 */
class Produced implements IResolvable {
  readonly creationStack: string[] = [];
  constructor(private readonly produce: () => unknown) {}
  resolve(): unknown {
    return this.produce();
  }
  toString(): string {
    return Token.asString(this);
  }
}

export function produced(fn: () => unknown): IResolvable {
  return new Produced(fn);
}
