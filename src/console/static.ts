/**
 * The built UI (`web/dist`, made by `npm run build:web`, which `npm ci` runs through `prepare`) served
 * beside the API: `/` is index.html, `/assets/*` are content-hashed files cached for a year.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, sendJson, shippedPath } from '../core/index.ts';
import { checkRequest, rememberToken, type Auth } from './auth.ts';

export const WEB_DIST = shippedPath('web', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

export function staticFallback(auth: Auth, dist = WEB_DIST): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/')) return false;
    try {
      checkRequest(auth, req, false);
    } catch (err) {
      const e = err as HttpError;
      res.writeHead(e.status ?? 401, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${e.message}\n`);
      return true;
    }
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || !path.extname(rel)) rel = '/index.html';
    const file = path.resolve(dist, '.' + rel);
    if (!file.startsWith(dist + path.sep)) return false;
    let body: Buffer;
    try {
      body = await fs.promises.readFile(file);
    } catch {
      if (rel === '/index.html') {
        sendJson(res, 503, { error: `the console's UI is not built (${dist} is missing): run npm ci, or npm run build:web` });
        return true;
      }
      return false;
    }
    rememberToken(auth, req, res);
    const immutable = rel.startsWith('/assets/');
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
