import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import type Koa from 'koa';
import type { Context } from 'koa';
import { ClutchError, CoreErrorCode } from '../../errors.js';

/** egg's list of the file extensions accepted by default. */
const DEFAULT_EXTENSIONS = [
  ...['.jpg', '.jpeg', '.png', '.gif', '.bmp', '.wbmp', '.webp', '.tif', '.psd'],
  ...['.svg', '.js', '.jsx', '.json', '.css', '.less', '.html', '.htm', '.xml', '.txt', '.md', '.csv', '.pdf'],
  ...['.zip', '.gz', '.tgz', '.gzip'],
  ...['.mp3', '.mp4', '.avi'],
];

/** A file of a multipart request: its bytes, and what the form said of it. */
export interface FileStream extends Readable {
  fieldname: string;
  filename: string;
  encoding: string;
  mime: string;
  mimeType: string;
  /** getFileStream(): the fields that came before the file. */
  fields: Record<string, string>;
  /** True when the file was cut at `multipart.fileSize` (the stream also fails with a 413). */
  truncated?: boolean;
}

/** A field of a multipart request, as egg's co-busboy yields it: [name, value, valueTruncated, nameTruncated]. */
export type FieldPart = [name: string, value: string, valueTruncated: boolean, nameTruncated: boolean];

export interface MultipartOptions {
  /** egg's (co-busboy's): true collects the fields into `parts.field` / `parts.fields` and yields files only; false (the default) yields fields too. */
  autoFields?: boolean;
  /** Overrides of config.multipart for this call. */
  limits?: Partial<Pick<MultipartConfig, 'fileSize' | 'files' | 'fields'>>;
}

function fail(status: number, message: string): ClutchError {
  return Object.assign(new ClutchError(CoreErrorCode.MULTIPART_INVALID, message), { status, expose: true });
}

/**
 * Reads a multipart body with busboy, part after part: a field is a FieldPart, a file a FileStream
 * that must be read (or `resume()`d) before the next part comes — the body is never buffered.
 */
async function* parts(
  ctx: Context,
  config: MultipartConfig,
  options: MultipartOptions,
  collect: ((field: FieldPart) => void) | null,
): AsyncGenerator<FieldPart | FileStream> {
  if (!ctx.is('multipart')) throw fail(400, `${ctx.method} ${ctx.path}: Content-Type must be multipart/*`);
  const accepted = new Set((config.whitelist ?? [...DEFAULT_EXTENSIONS, ...config.fileExtensions]).map((e) => e.toLowerCase()));
  const { default: busboy } = await import('busboy');
  const limits = {
    fileSize: Number(options.limits?.fileSize ?? config.fileSize),
    files: options.limits?.files ?? config.files,
    fields: options.limits?.fields ?? config.fields,
    fieldSize: Number(config.fieldSize),
  };
  let parser: ReturnType<typeof busboy>;
  try {
    parser = busboy({ headers: ctx.req.headers, limits });
  } catch (err) {
    throw fail(400, `${ctx.method} ${ctx.path}: ${(err as Error).message}`);
  }
  /** Files not yet fully read: a client that goes away fails them, so no reader waits for good. */
  const open = new Set<FileStream>();
  const queue: Array<FieldPart | FileStream> = [];
  let failure: Error | null = null;
  let finished = false;
  /** The reader stopped early: what comes after is read and dropped. */
  let stopped = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  parser.on('field', (name, value, info) => {
    const field: FieldPart = [name, value, info.valueTruncated, info.nameTruncated];
    if (collect) collect(field);
    else if (!stopped) queue.push(field);
    notify();
  });
  parser.on('file', (fieldname, stream, info) => {
    if (stopped) {
      stream.resume();
      return;
    }
    const file = Object.assign(stream, {
      fieldname,
      filename: info.filename,
      encoding: info.encoding,
      mime: info.mimeType,
      mimeType: info.mimeType,
      fields: {},
    }) as FileStream;
    // A reader that does not listen for errors (or a file dropped unread) must not crash the
    // worker: the error reaches whoever reads the stream, and the request fails with it.
    // busboy's own errors (a body cut short: "Unexpected end of form") are the client's: a 400.
    stream.on('error', (err: Error & { status?: number }) => {
      if (err.status === undefined) Object.assign(err, { status: 400, expose: true, code: CoreErrorCode.MULTIPART_INVALID });
    });
    if (!accepted.has(extname(info.filename ?? '').toLowerCase())) {
      stream.resume();
      failure ??= fail(400, `Invalid filename: ${info.filename} (its extension is not accepted; see config.multipart.fileExtensions)`);
    } else {
      open.add(file);
      stream.once('end', () => open.delete(file));
      stream.once('limit', () => {
        file.truncated = true;
        const err = fail(413, `${info.filename}: larger than config.multipart.fileSize (${limits.fileSize} bytes)`);
        // The request fails (busboy never finishes a destroyed file, so nothing after it comes).
        failure ??= err;
        open.delete(file);
        stream.destroy(err);
        notify();
      });
      queue.push(file);
    }
    notify();
  });
  // The client went away mid-body: every reader learns it, none waits for the rest.
  const aborted = () => {
    if (ctx.req.complete) return;
    const err = fail(400, `${ctx.method} ${ctx.path}: the client closed the connection during the upload`);
    failure ??= err;
    for (const file of open) file.destroy(err);
    open.clear();
    notify();
  };
  ctx.req.once('close', aborted);
  const over = (what: string) => () => {
    failure ??= fail(413, `Too many ${what} (config.multipart.${what}: ${limits[what as 'files' | 'fields']})`);
    notify();
  };
  parser.on('filesLimit', over('files'));
  parser.on('fieldsLimit', over('fields'));
  parser.on('error', (err: Error) => {
    failure ??= fail(400, `Malformed multipart body: ${err.message}`);
    notify();
  });
  parser.on('close', () => {
    finished = true;
    notify();
  });
  ctx.req.pipe(parser);
  try {
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // Stopped early (getFileStream has its file, or a throw): the parser goes on — the file handed
    // out still flows — and the rest of the body is read and dropped, so the connection stays usable.
    if (!finished) {
      stopped = true;
      for (const part of queue.splice(0)) {
        if (Array.isArray(part)) continue;
        part.removeAllListeners('limit');
        open.delete(part);
        part.resume();
      }
    }
  }
}

/**
 * What `ctx.multipart()` returns, egg's (co-busboy's) shape: call it for the next part (null at the
 * end) — `while ((part = await parts()) != null)` — or iterate it (`for await`). With
 * `autoFields: true` the fields are not parts: they are in `field` (name → value, a list for a
 * repeated name) and `fields` (every [name, value, …] in order), complete once the last part is read.
 */
export interface Parts extends AsyncIterable<FieldPart | FileStream> {
  (): Promise<FieldPart | FileStream | null>;
  readonly field: Record<string, string | string[]>;
  readonly fields: FieldPart[];
}

function partsOf(ctx: Context, config: MultipartConfig, options: MultipartOptions): Parts {
  const field: Record<string, string | string[]> = {};
  const fields: FieldPart[] = [];
  const collect = (part: FieldPart) => {
    fields.push(part);
    const [name, value] = part;
    // As co-busboy: a name Object.prototype has (__proto__, constructor…) is not set.
    if (name in Object.prototype) return;
    const prev = field[name];
    field[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  };
  const iterator = parts(ctx, config, options, options.autoFields === true ? collect : null);
  const next = async () => {
    const step = await iterator.next();
    return step.done ? null : step.value;
  };
  return Object.assign(next, { field, fields, [Symbol.asyncIterator]: () => iterator });
}

/**
 * Built-in plugin **multipart**, as egg's in stream mode: `ctx.multipart()` gives each part (Parts);
 * `ctx.getFileStream()` resolves with the first file, whose `fields` are the fields sent before it.
 */
export function multipart(config: MultipartConfig, app: Koa): void {
  Object.defineProperties(app.context, {
    multipart: {
      configurable: true,
      value(this: Context, options: MultipartOptions = {}): Parts {
        return partsOf(this, config, options);
      },
    },
    getFileStream: {
      configurable: true,
      async value(this: Context, options: MultipartOptions = {}): Promise<FileStream> {
        const fields: Record<string, string> = {};
        // The fields before the file are parts here, whatever autoFields says: they become its `fields`.
        for await (const part of parts(this, config, options, null)) {
          if (Array.isArray(part)) {
            fields[part[0]] = part[1];
            continue;
          }
          part.fields = fields;
          return part;
        }
        throw fail(400, `${this.method} ${this.path}: the multipart body has no file`);
      },
    },
  });
}

declare module 'koa' {
  interface DefaultContext {
    /** Each part of a multipart body, in order (built-in plugin multipart): egg's `parts()` or `for await`. */
    multipart(options?: MultipartOptions): Parts;
    /** The first file of a multipart body, with the fields sent before it. */
    getFileStream(options?: MultipartOptions): Promise<FileStream>;
  }
}

export interface MultipartConfig {
  /** The largest file, bytes or a size like `'10mb'` (default 10 MB). */
  fileSize: number | string;
  /** At most this many files and fields per request, and this many bytes per field. */
  files: number;
  fields: number;
  fieldSize: number | string;
  /** File extensions accepted besides the default list (egg's), e.g. `['.apk']`. */
  fileExtensions: string[];
  /** When set, exactly these extensions are accepted (replaces the default list). */
  whitelist?: string[];
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** Built-in plugin **multipart**: `ctx.getFileStream()` and `ctx.multipart()` (busboy). */
    multipart: MultipartConfig;
  }
}
