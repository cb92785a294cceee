/** The CLI's flag parsing as a unit: what every command's arguments go through before anything runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intFlag, parseFlags, sizeFlag } from '../../packages/cli/src/args.ts';
import { CliErrorCode, UsageError } from '../../packages/cli/src/errors.ts';

const OPTIONS = { port: { type: 'string' }, daemon: { type: 'boolean', short: 'd' } } as const;

/** Asserts that `fn` throws a UsageError with the `expected` code and message. */
function usage(fn: () => unknown, expected: { code: CliErrorCode; message: RegExp }): void {
  assert.throws(fn, UsageError);
  assert.throws(fn, expected);
}

describe('parseFlags', () => {
  it('returns the flags and the positionals', () => {
    const { values, positionals } = parseFlags(['apps/hello', '--port', '8080', '-d'], OPTIONS, 1);
    assert.deepEqual({ ...values }, { port: '8080', daemon: true });
    assert.deepEqual(positionals, ['apps/hello']);
  });

  it('an unknown flag is CLUTCH_ERR_CLI_UNKNOWN_FLAG, naming it', () => {
    usage(() => parseFlags(['--prot', '8080'], OPTIONS, 1), { code: CliErrorCode.UNKNOWN_FLAG, message: /--prot/ });
  });

  it('a flag without its value is CLUTCH_ERR_CLI_BAD_VALUE, naming it', () => {
    usage(() => parseFlags(['--port'], OPTIONS, 1), { code: CliErrorCode.BAD_VALUE, message: /--port/ });
  });

  it('a value for a boolean flag is CLUTCH_ERR_CLI_BAD_VALUE', () => {
    usage(() => parseFlags(['--daemon=yes'], OPTIONS, 1), { code: CliErrorCode.BAD_VALUE, message: /--daemon/ });
  });

  it('more positionals than the command takes is CLUTCH_ERR_CLI_BAD_VALUE, naming the first extra one', () => {
    usage(() => parseFlags(['a', 'b', 'c'], OPTIONS, 1), { code: CliErrorCode.BAD_VALUE, message: /Unexpected argument "b"/ });
    assert.deepEqual(parseFlags(['a', 'b'], OPTIONS, 2).positionals, ['a', 'b']);
    usage(() => parseFlags(['a'], OPTIONS, 0), { code: CliErrorCode.BAD_VALUE, message: /Unexpected argument "a"/ });
  });
});

describe('intFlag and sizeFlag', () => {
  it('intFlag: absent is undefined; an integer within the bounds is read; anything else names the flag and the bounds', () => {
    assert.equal(intFlag('workers', undefined, 1), undefined);
    assert.equal(intFlag('workers', '4', 1, 64), 4);
    assert.equal(intFlag('port', '0', 0, 65_535), 0);
    for (const raw of ['0', '65', '1.5', '-1', 'abc', '', '1e3', '4 workers', '0x10', '+4']) {
      usage(() => intFlag('workers', raw, 1, 64), { code: CliErrorCode.BAD_VALUE, message: /--workers must be an integer from 1 to 64/ });
    }
  });

  it('sizeFlag: bytes or a size with a unit; zero, negative or nonsense names the flag', () => {
    assert.equal(sizeFlag('max-memory', undefined), undefined);
    assert.equal(sizeFlag('max-memory', '1048576'), 1_048_576);
    assert.equal(sizeFlag('max-memory', '512MB'), 512 * 1024 * 1024);
    assert.equal(sizeFlag('max-memory', '1gb'), 1024 * 1024 * 1024);
    for (const raw of ['0', '-5MB', 'lots', '']) {
      usage(() => sizeFlag('max-memory', raw), { code: CliErrorCode.BAD_VALUE, message: /--max-memory must be a size/ });
    }
  });
});
