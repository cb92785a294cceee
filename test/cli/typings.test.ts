import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { APP_BIN, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** `tsc -p <config>` in the project: its exit code and what it printed. */
function tsc(dir: string, config: string): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [TSC, '-p', config, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

function appTypings(dir: string): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [APP_BIN, 'typings', dir], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

// egg's TypeScript boilerplate, 'egg' renamed, and no declaration of its own.
describe('app typings: an egg TypeScript project type-checks with no hand-written declarations', { timeout: 240_000 }, () => {
  const project = copyFixture('egg-ts-project');
  // Generated, never shipped with the fixture (one written there by hand is not this test's).
  rmSync(join(project.dir, 'typings'), { recursive: true, force: true });
  let dev: AppProcess | undefined;
  after(() => {
    dev?.kill();
    project.remove();
  });

  it("without the typings, tsc finds the project's trees untyped (what the typings are for)", () => {
    const run = tsc(project.dir, 'tsconfig.json');
    assert.notEqual(run.code, 0);
    assert.match(run.out, /TS2339: Property 'test' does not exist on type 'ServiceTree'/);
    assert.match(run.out, /TS2339: Property 'home' does not exist on type 'ControllerTree'/);
    // The packages themselves resolve under egg's CommonJS tsconfig (node10): no TS2307.
    assert.doesNotMatch(run.out, /TS2307/);
  });

  it('writes typings/clutch.d.ts; tsc --noEmit is clean under egg’s @eggjs/tsconfig (commonjs, node10) and under NodeNext', () => {
    const wrote = appTypings(project.dir);
    assert.equal(wrote.code, 0, wrote.out);
    assert.match(wrote.out, /^wrote .*typings\/clutch\.d\.ts$/m);
    const text = readFileSync(join(project.dir, 'typings', 'clutch.d.ts'), 'utf8');
    assert.match(text, /"auditLog": ServiceAdminAuditLog;/, 'a folder of services is a node; user_info-style names are camelCased');
    assert.match(text, /"greeter": PluginGreeterServiceGreeter;/, "a plugin's services are in the tree");
    assert.match(text, /"greeting": \(typeof PluginGreeterExtendContext\)\["greeting"\];/, 'and its extends');
    const egg = tsc(project.dir, 'tsconfig.json');
    assert.deepEqual(egg, { code: 0, out: '' });
    const nodenext = tsc(project.dir, 'tsconfig.nodenext.json');
    assert.deepEqual(nodenext, { code: 0, out: '' });
    assert.match(appTypings(project.dir).out, /^unchanged: /m, 'nothing new: the file is left as it is');
  });

  it('the typings type what the files say: a wrong call is an error', () => {
    project.edit('app/controller/home.ts', "ctx.service.test.sayHi('egg')", 'ctx.service.test.sayHi(42)');
    const run = tsc(project.dir, 'tsconfig.nodenext.json');
    assert.match(run.out, /TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
    project.edit('app/controller/home.ts', 'ctx.service.test.sayHi(42)', "ctx.service.test.sayHi('egg')");
  });

  it('app dev keeps them current: a new service is typed once saved', async () => {
    const started = await startFixture(project.dir, [], { command: 'dev' });
    dev = started.app;
    const home = await getJson<string>(`${started.info.url}/`);
    assert.deepEqual([home.body, home.headers['x-greeting']], ['hi, egg', 'from the greeter plugin: hi, plugin'], 'the project and its plugin run as typed');
    project.write(
      'app/service/weather.ts',
      "import { Service } from '@clutch/core';\n\nexport default class Weather extends Service {\n  public async today(): Promise<string> {\n    return 'sunny';\n  }\n}\n",
    );
    await dev.waitForLine(/typings: wrote/, 30_000);
    assert.match(readFileSync(join(project.dir, 'typings', 'clutch.d.ts'), 'utf8'), /"weather": ServiceWeather;/);
  });
});
