import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The web console's files (`console/` at the package root) and the paths the admin server serves them at. */
const ASSETS: Record<string, [file: string, contentType: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/console/console.js': ['console.js', 'text/javascript; charset=utf-8'],
  '/console/console.css': ['console.css', 'text/css; charset=utf-8'],
};

/**
 * The page loads nothing but these files and the same-origin API: no inline script or style, no
 * other origin, not framed (clickjacking), no referrer. The console holds no data itself, so it
 * is served without the admin token; the API it calls needs the token.
 */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** dist/core/ when built, core/ when run from source: console/ is one or two levels up. */
function consoleDir(): string {
  for (const up of ['../console/', '../../console/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`the console's files are missing: no console/index.html above ${fileURLToPath(import.meta.url)}`);
}

export const isConsolePath = (path: string): boolean => Object.hasOwn(ASSETS, path);

const cache = new Map<string, { contentType: string; body: Buffer }>();

/** The console file served at `path`, or undefined when `path` is not one of them. Read once, then kept. */
export function consoleAsset(path: string): { contentType: string; body: Buffer } | undefined {
  if (!isConsolePath(path)) return undefined;
  const asset = ASSETS[path];
  let hit = cache.get(path);
  if (hit === undefined) {
    hit = { contentType: asset[1], body: readFileSync(`${consoleDir()}${asset[0]}`) };
    cache.set(path, hit);
  }
  return hit;
}
