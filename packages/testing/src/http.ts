import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface SimpleResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

/**
 * A small HTTP(S) client for tests that need what fetch hides: a private CA for the generated
 * self-signed certificate, or raw control over the request.
 */
export function httpCall(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: options.method ?? 'GET', headers: options.headers, ca: options.ca, servername: target.hostname === '127.0.0.1' ? undefined : target.hostname, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
