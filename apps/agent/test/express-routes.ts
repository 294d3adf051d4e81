import type { Express } from "express";

interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  slash?: boolean;
  rawPath?: string;
}

/**
 * Every (method, path) an Express app routes, read from its router stack (nested routers mounted at `/`
 * included), so a security suite covers a route the moment it is added. Parameters become `sample`; a
 * regular-expression path becomes the shortest literal it matches (`all()` routes are listed as POST).
 */
export function expressRoutes(app: Express, sample = "sample"): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = literal(layer.route.path, sample);
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on) out.push({ method: method === "_all" ? "POST" : method.toUpperCase(), path });
        }
      } else if (layer.handle.stack) {
        if (!layer.slash)
          throw new Error(`a router mounted at ${layer.rawPath}: teach expressRoutes() its prefix`);
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

function literal(path: string | RegExp, sample: string): string {
  if (typeof path === "string") return path.replace(/:[A-Za-z_]+/g, sample);
  const text = path.source
    .replace(/^\^/, "")
    .replace(/\(\?![^)]*\)/g, "")
    .replace(/\\\//g, "/")
    .replace(/\.\*\$?$/, sample)
    .replace(/\/$/, `/${sample}`)
    .replace(/\$$/, "");
  if (/[\\()[\]*+?^$|]/.test(text) || !path.test(text))
    throw new Error(`no sample path for ${path}: extend expressRoutes()`);
  return text;
}
