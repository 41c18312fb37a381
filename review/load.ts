/**
 * Reading the two sides of a review: a synthesized folder (cdktf.out), or a git ref that is
 * synthesized in a temporary `git worktree` with its own build.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { TopologyJson } from "../constructs/model.js";
import type { EnvironmentSnapshot } from "./diff.js";
import { readPolicySnapshot } from "./policy-facts.js";
import type { Note } from "./types.js";

/** Environments synthesized into a folder (from topology/<env>.json). */
export function environmentsIn(outdir: string): string[] {
  const dir = join(outdir, "topology");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** One environment of a synthesized folder; null when the folder does not hold it. */
export function readSnapshot(outdir: string, env: string, repoRoot: string | null = null): EnvironmentSnapshot | null {
  const topo = join(outdir, "topology", `${env}.json`);
  if (!existsSync(topo)) return null;
  const stacks: Record<string, unknown> = {};
  const stacksDir = join(outdir, "stacks");
  if (existsSync(stacksDir))
    for (const id of readdirSync(stacksDir).sort()) if (id.startsWith(`${env}-`) && existsSync(join(stacksDir, id, "cdk.tf.json"))) stacks[id] = JSON.parse(readFileSync(join(stacksDir, id, "cdk.tf.json"), "utf8"));
  return {
    name: env,
    topology: JSON.parse(readFileSync(topo, "utf8")) as TopologyJson,
    stacks,
    policy: readPolicySnapshot(env, outdir, repoRoot ?? guessRepoRoot(outdir)),
  };
}

/** A cdktf.out folder usually sits at the top of a checkout: its parent holds policy/exceptions. */
function guessRepoRoot(outdir: string): string | null {
  const parent = dirname(resolve(outdir));
  return existsSync(join(parent, "package.json")) ? parent : null;
}

const git = (cwd: string, args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

export interface RefSynthesis {
  outdir: string;
  /** The worktree's checkout (policy/exceptions come from here). */
  root: string;
  commit: string;
  notes: Note[];
  cleanup: () => void;
}

/**
 * Checks `ref` out in a temporary worktree, builds it and synthesizes `envs` there.
 * node_modules: when the ref's package-lock.json equals the work tree's, the worktree gets a
 * node_modules of symlinks to this checkout's packages (seconds instead of an `npm ci`), with the
 * workspace package pointing at the worktree's own copy. Otherwise the same is done and a note
 * says the build may not match the ref exactly, unless `npmCi` asks for a real `npm ci`.
 */
export function synthesizeRef(repo: string, ref: string, envs: string[], options: { npmCi?: boolean; log?: (s: string) => void } = {}): RefSynthesis {
  const log = options.log ?? (() => {});
  const notes: Note[] = [];
  const commit = git(repo, ["rev-parse", "--verify", `${ref}^{commit}`]);
  const tmp = mkdtempSync(join(tmpdir(), "lanic-ca-diff-"));
  const root = join(tmp, "tree");
  git(repo, ["worktree", "add", "--detach", root, commit]);
  const cleanup = () => {
    try {
      git(repo, ["worktree", "remove", "--force", root]);
    } catch {
      /* already gone */
    }
    rmSync(tmp, { recursive: true, force: true });
    try {
      git(repo, ["worktree", "prune"]);
    } catch {
      /* nothing to prune */
    }
  };
  try {
    let sameLock = false;
    try {
      sameLock = git(repo, ["show", `${commit}:package-lock.json`]) === readFileSync(join(repo, "package-lock.json"), "utf8").trim();
    } catch {
      sameLock = false;
    }
    if (!sameLock && options.npmCi) {
      log(`${ref}: package-lock.json differs from the work tree's: npm ci in the worktree`);
      execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
    } else {
      if (!sameLock) notes.push({ environment: null, message: `${ref}: its package-lock.json differs from the work tree's; it was built with the work tree's node_modules (pass --npm-ci for an exact install)` });
      linkNodeModules(repo, root);
    }
    log(`${ref} (${commit.slice(0, 12)}): building in ${root}`);
    execFileSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-b"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const outdir = join(tmp, "cdktf.out");
    log(`${ref}: synthesizing ${envs.join(", ") || "all environments"}`);
    execFileSync(process.execPath, [join(root, "dist", "cli", "main.js"), "synth", ...envs, "-o", outdir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    return { outdir, root, commit, notes, cleanup };
  } catch (e) {
    cleanup();
    const err = e as { stderr?: Buffer | string; stdout?: Buffer | string; message: string };
    throw new Error(`could not synthesize ${ref}: ${String(err.stderr ?? "") || String(err.stdout ?? "") || err.message}`.trim());
  }
}

/** node_modules of symlinks into the main checkout, except the workspace package(s). */
function linkNodeModules(repo: string, root: string) {
  const src = join(repo, "node_modules");
  const dst = join(root, "node_modules");
  mkdirSync(dst);
  for (const name of readdirSync(src)) {
    if (name === "@lanic-ca") continue;
    symlinkSync(join(src, name), join(dst, name));
  }
  mkdirSync(join(dst, "@lanic-ca"));
  for (const name of existsSync(join(src, "@lanic-ca")) ? readdirSync(join(src, "@lanic-ca")) : []) {
    const pkgDir = join(root, "images", name);
    if (existsSync(pkgDir)) symlinkSync(pkgDir, join(dst, "@lanic-ca", name));
    else symlinkSync(join(src, "@lanic-ca", name), join(dst, "@lanic-ca", name));
    // Packages npm installed inside the workspace (a version the root does not hoist, e.g. pkijs).
    const nested = join(repo, "images", name, "node_modules");
    if (existsSync(pkgDir) && existsSync(nested) && !existsSync(join(pkgDir, "node_modules"))) symlinkSync(nested, join(pkgDir, "node_modules"));
  }
}
