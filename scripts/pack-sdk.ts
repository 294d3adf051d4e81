/**
 * `npm run pack:sdk`: builds the publishable packages to JavaScript + .d.ts and
 * writes installable tarballs to dist/packages/ (docs/guides/packaging.md).
 *
 * Inside the monorepo every package's `exports` point at its .ts sources, so
 * tests, tsx and Vite run the sources with no build step. Publishing rewrites
 * package.json at pack time instead: each `./src/x.ts(x)` export becomes
 * `{ types: ./dist/x.d.ts, default: ./dist/x.js }`, and a package's
 * `publishConfig` (bin, extra exports, dependencies that become peers) is
 * applied and then dropped. Nothing in the repository's package.json files
 * changes, so a new entry point added to `exports` ships without touching this
 * script.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const BUILD = join(ROOT, "dist/build");
const STAGE = join(ROOT, "dist/stage");
const OUT = join(ROOT, "dist/packages");
/** Dependency order; every package the published agent-kit and marketplace import. */
export const SDK_PACKAGES = ["contract", "db", "telemetry", "agent-kit", "marketplace"] as const;
/** Shipped beside dist/ when present: SQL migrations are read at run time (new URL("../migrations/", import.meta.url)). */
const ASSETS = ["migrations", "README.md"];

type Exports = Record<string, string | Record<string, string>>;
interface PublishConfig {
  bin?: Record<string, string>;
  exports?: Record<string, string>;
  /** Repository-only entry points (first-party tests and tooling) that are not published. */
  unpublishedExports?: string[];
  /** Dependencies that move to peerDependencies (the app brings its own express/react); value = peer range. */
  peerDependencies?: Record<string, string>;
  /** Peers the app only needs for one entry point. */
  optionalPeers?: string[];
}
interface Manifest {
  name: string;
  version: string;
  description?: string;
  private?: boolean;
  type?: string;
  exports?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  engines?: Record<string, string>;
  publishConfig?: PublishConfig;
  [key: string]: unknown;
}

/** `./src/a/b.tsx` → `./dist/a/b.js` (and `.d.ts`); anything else is refused, so a new kind of export is noticed. */
export function distEntry(source: string, pkg: string): { types: string; default: string } {
  const m = /^\.\/src\/(.+)\.tsx?$/.exec(source);
  if (!m) throw new Error(`${pkg}: export target ${source} is not a ./src/*.ts(x) file`);
  return { types: `./dist/${m[1]}.d.ts`, default: `./dist/${m[1]}.js` };
}

/** The package.json that is published, derived from the repository's one. */
export function publishedManifest(
  source: Manifest,
  workspaceVersions: Map<string, string>,
): Record<string, unknown> {
  const { publishConfig = {}, exports = {}, dependencies = {}, description, name, version, type } = source;
  const engines = source.engines ?? { node: ">=22" };
  const out: Exports = {};
  for (const [key, target] of Object.entries({ ...exports, ...publishConfig.exports }))
    if (!publishConfig.unpublishedExports?.includes(key)) out[key] = distEntry(target, name);
  out["./package.json"] = "./package.json";

  const deps: Record<string, string> = {};
  // The repository's own peers (e.g. the storage drivers) stay peers; publishConfig adds more.
  const peers: Record<string, string> = { ...source.peerDependencies };
  const peerMeta: Record<string, { optional?: boolean }> = { ...source.peerDependenciesMeta };
  for (const peer of publishConfig.optionalPeers ?? []) peerMeta[peer] = { optional: true };
  for (const [dep, range] of Object.entries(dependencies)) {
    const peer = publishConfig.peerDependencies?.[dep];
    if (peer) peers[dep] = peer;
    else deps[dep] = workspaceVersions.get(dep) ?? range;
  }
  for (const peer of Object.keys(publishConfig.peerDependencies ?? {}))
    if (!(peer in dependencies)) throw new Error(`${name}: publishConfig peer ${peer} is not a dependency`);
  const bin = publishConfig.bin
    ? Object.fromEntries(Object.entries(publishConfig.bin).map(([k, v]) => [k, distEntry(v, name).default]))
    : undefined;
  return {
    name,
    version,
    ...(description ? { description } : {}),
    license: "UNLICENSED",
    type: type ?? "module",
    engines,
    exports: out,
    ...(bin ? { bin } : {}),
    files: ["dist", ...ASSETS],
    dependencies: deps,
    ...(Object.keys(peers).length ? { peerDependencies: peers } : {}),
    ...(publishConfig.optionalPeers?.length
      ? {
          peerDependenciesMeta: Object.fromEntries(
            publishConfig.optionalPeers.map((p) => [p, { optional: true }]),
          ),
        }
      : {}),
  };
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8")) as Manifest;
}

function main() {
  const tsc = join(ROOT, "node_modules/.bin/tsc");
  rmSync(BUILD, { recursive: true, force: true });
  rmSync(STAGE, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
  console.log("pack:sdk: compiling (tsconfig.build.json)");
  execFileSync(tsc, ["-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });

  const manifests = new Map(SDK_PACKAGES.map((dir) => [dir, readManifest(dir)]));
  const versions = new Map([...manifests.values()].map((m) => [m.name, m.version]));
  mkdirSync(OUT, { recursive: true });
  for (const [dir, manifest] of manifests) {
    const stage = join(STAGE, dir);
    mkdirSync(stage, { recursive: true });
    cpSync(join(BUILD, dir, "src"), join(stage, "dist"), { recursive: true });
    for (const asset of ASSETS) {
      const from = join(ROOT, "packages", dir, asset);
      if (existsSync(from)) cpSync(from, join(stage, asset), { recursive: true });
    }
    writeFileSync(
      join(stage, "package.json"),
      `${JSON.stringify(publishedManifest(manifest, versions), null, 2)}\n`,
    );
    execFileSync("npm", ["pack", "--silent", "--pack-destination", OUT], { cwd: stage, stdio: "ignore" });
  }
  for (const file of readdirSync(OUT).sort()) console.log(`  dist/packages/${file}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
