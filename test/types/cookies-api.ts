/** Type tests of egg's cookie options on ctx.cookies: type-checked by tsc -b, never run. */
import type { Context } from '@clutch/core';

export function cookies(ctx: Context): void {
  ctx.cookies.set('token', 'value', { encrypt: true, httpOnly: true });
  // @types/cookies requires `signed` in a get's options; under encrypt it is moot, as in egg.
  const token: string | undefined = ctx.cookies.get('token', { signed: true, encrypt: true });
  ctx.cookies.set('remember', null);
  // @ts-expect-error encrypt is a boolean
  ctx.cookies.set('token', 'value', { encrypt: 'yes' });
  void token;
}
