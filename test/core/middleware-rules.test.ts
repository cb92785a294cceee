/** `match`/`ignore` of a middleware (and of the body parser), without processes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context, Middleware } from 'koa';
import { scoped } from '../../packages/core/src/loader/middleware.ts';

/** Which of `paths` the scoped middleware ran for. */
async function ranFor(options: Parameters<typeof scoped>[1], paths: string[]): Promise<string[]> {
  const ran: string[] = [];
  const mw: Middleware = async (ctx) => {
    ran.push(ctx.path);
  };
  const wrapped = scoped(mw, options);
  for (const path of paths) await wrapped({ path } as Context, async () => {});
  return ran;
}

describe('match and ignore', () => {
  const paths = ['/api/users', '/apiary', '/health', '/static/a.css', '/never'];

  it('a string is a path and what is under it, a RegExp is tested (stateless even with g), a function is given the context', async () => {
    // '/api' is never '/apiary': an ignore rule must not reach a path it does not name.
    assert.deepEqual(await ranFor({ match: '/api' }, paths), ['/api/users']);
    assert.deepEqual(await ranFor({ ignore: '/api' }, paths), ['/apiary', '/health', '/static/a.css', '/never']);
    // A function's truthy answer counts, as egg's.
    assert.deepEqual(await ranFor({ match: (ctx) => (ctx.path.startsWith('/h') ? 'yes' : '') as unknown as boolean }, paths), ['/health']);
    assert.deepEqual(await ranFor({ match: /^\/static\//g }, [...paths, '/static/b.css']), ['/static/a.css', '/static/b.css']);
    assert.deepEqual(await ranFor({ ignore: (ctx) => ctx.path === '/never' }, paths), ['/api/users', '/apiary', '/health', '/static/a.css']);
  });

  it("egg's list form: any rule of the list", async () => {
    assert.deepEqual(await ranFor({ ignore: ['/health', /^\/static/, (ctx) => ctx.path === '/never'] }, paths), ['/api/users', '/apiary']);
    assert.deepEqual(await ranFor({ ignore: ['/api', '/static'] }, paths), ['/apiary', '/health', '/never']);
    assert.deepEqual(await ranFor({ match: ['/health', '/never'], ignore: '/never' }, paths), ['/health']);
  });

  it('anything else fails at once with CLUTCH_ERR_MIDDLEWARE_INVALID naming the option', () => {
    assert.throws(
      () => scoped(async () => {}, { ignore: [42 as unknown as string] }, 'bodyParser'),
      (err: Error & { code?: string }) => err.code === 'CLUTCH_ERR_MIDDLEWARE_INVALID' && /config\.bodyParser\.ignore must be/.test(err.message),
    );
  });
});
