import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../core/admin-server.js';
import { AdminRoutes } from '../../core/admin-routes.js';
import { createLogger } from '../../core/logger.js';

/** The console's files are served without the token (they hold no data); the API they call is not. */
describe('the console on the admin server', () => {
  const routes = new AdminRoutes();
  routes.add('/api/v1/spend', async () => ({ status: 200, contentType: 'application/json', body: '{"rows":[]}' }));
  const server = new AdminServer({ endpoint: '127.0.0.1:0', auth: { bearer_tokens: ['t0ken'], bearer_tokens_env: '' } }, process.cwd(), new Registry(), () => ({ ready: true, reason: '' }), () => routes, createLogger('error', {}, () => undefined), {});
  let base = '';

  beforeAll(async () => {
    await server.start();
    base = `http://${server.address()}`;
  });
  afterAll(() => server.stop());

  it('serves the page, its script and its style with a CSP that allows nothing else, without a token', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/console/console.js"></script>');
    for (const [path, type] of [['/console/console.js', 'text/javascript; charset=utf-8'], ['/console/console.css', 'text/css; charset=utf-8']]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect((await res.text()).length, path).toBeGreaterThan(1000);
    }
    expect((await fetch(`${base}/console/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/spend`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/spend`, { headers: { authorization: 'Bearer t0ken' } })).status).toBe(200);
  });
});
