// A small typed fetch over one service's generated operation types: `request('GET /meetings/{ref}', {
// params: { ref } })` answers `{ status, body }` where `body` has the type the document gives that status.

/** What a generated operation type looks like (see src/generated). */
export interface OperationShape {
  params: unknown;
  query: unknown;
  body: unknown;
  responses: Record<number, unknown>;
}

type Part<Name extends string, T> = [T] extends [never]
  ? unknown
  : undefined extends T
    ? { [K in Name]?: T }
    : { [K in Name]: T };

export type RequestInput<Op extends OperationShape> = Part<'params', Op['params']> &
  Part<'query', Op['query']> &
  Part<'body', Op['body']> & { headers?: Record<string, string> };

export type Answer<Op extends OperationShape> = {
  [S in keyof Op['responses'] & number]: { status: S; body: Op['responses'][S]; headers: Headers };
}[keyof Op['responses'] & number];

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:3001` */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` on every call. */
  apiKey?: string;
  fetch?: typeof fetch;
}

/** Required inputs are required: an operation with path parameters cannot be called without them. */
type Args<Op extends OperationShape> =
  Record<never, never> extends RequestInput<Op> ? [input?: RequestInput<Op>] : [input: RequestInput<Op>];

export interface ApiClient<Api> {
  request<K extends keyof Api & string>(
    operation: K,
    ...args: Api[K] extends OperationShape ? Args<Api[K]> : never
  ): Promise<Api[K] extends OperationShape ? Answer<Api[K]> : never>;
}

interface RawInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string>;
}

export function createApiClient<Api>(options: ClientOptions): ApiClient<Api> {
  return new HttpApiClient<Api>(options);
}

class HttpApiClient<Api> implements ApiClient<Api> {
  readonly #send: typeof fetch;
  readonly #base: string;
  readonly #apiKey: string | undefined;

  constructor(options: ClientOptions) {
    this.#send = options.fetch ?? fetch;
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
  }

  request<K extends keyof Api & string>(
    operation: K,
    ...args: Api[K] extends OperationShape ? Args<Api[K]> : never
  ): Promise<Api[K] extends OperationShape ? Answer<Api[K]> : never>;
  // One implementation for every operation: the overload above carries each one's types from the document.
  async request(operation: string, input: RawInput = {}): Promise<any> {
    const space = operation.indexOf(' ');
    const method = operation.slice(0, space);
    const path = operation.slice(space + 1).replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = input.params?.[name];
      if (value === undefined) throw new TypeError(`${operation}: path parameter "${name}" is missing`);
      return encodeURIComponent(String(value));
    });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(input.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...input.headers };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let body: string | undefined;
    if (input.body !== undefined) {
      body = JSON.stringify(input.body);
      headers['content-type'] = 'application/json';
    }
    const url = `${this.#base}${path}${query.size > 0 ? `?${query}` : ''}`;
    const response = await this.#send(url, { method, headers, body });
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    const parsed = type.includes('json') && text !== '' ? JSON.parse(text) : text === '' ? undefined : text;
    return { status: response.status, body: parsed, headers: response.headers };
  }
}
