import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ClusterErrorCode, ClutchError } from './errors.js';

/**
 * Reads the `--env-file` files with Node's own parser (`util.parseEnv`, the one behind `node
 * --env-file`), in order: a later file's value wins over an earlier one's, as with Node's repeated
 * flag. The master reads them once per start and per reload, so the agent and every worker get the
 * same values, and a reload picks up an edited file.
 */
export function readEnvFiles(paths: readonly string[]): NodeJS.Dict<string> {
  const values: NodeJS.Dict<string> = {};
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ClutchError(ClusterErrorCode.ENV_FILE, `The env file ${path} cannot be read (${code})`, { cause: err });
    }
    Object.assign(values, parseEnv(text));
  }
  return values;
}
