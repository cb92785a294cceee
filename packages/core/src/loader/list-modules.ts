import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MODULE_EXTENSIONS, isModuleFile } from './import-module.js';

/** A file name as a property, as egg's: `user-profile` and `user_profile` become `userProfile`, `News` becomes `news`. */
export function camelCase(name: string): string {
  const camel = name.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/** Lists a folder's module files; where `x.ts` and `x.js` both exist, the earlier extension wins. */
export async function listModules(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const byBase = new Map<string, string>();
  const rank = (file: string) => (MODULE_EXTENSIONS as readonly string[]).indexOf(extname(file));
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    if (!isModuleFile(file)) continue;
    const base = file.slice(0, -extname(file).length);
    const seen = byBase.get(base);
    if (!seen || rank(file) < rank(seen)) byBase.set(base, file);
  }
  return [...byBase.values()].sort();
}
