import dns from 'node:dns';
import { type AllowList, checkAddress, checkTargetUrl, isHostAllowListed } from './ssrf.rules.ts';

/** `dns.lookup` in its `all: true` form; tests inject one to play a DNS server (e.g. for rebinding). */
export type ResolveAll = (
  hostname: string,
  options: dns.LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export const systemResolveAll: ResolveAll = (hostname, options, callback) =>
  dns.lookup(hostname, { ...options, all: true }, callback);

export class SsrfRefusedError extends Error {
  override name = 'SsrfRefusedError';
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for the HTTP agents: it resolves, drops every address the rules refuse, and hands the socket
 * only what is left, so the address connected to is the address checked (a DNS answer that changes between
 * creation and delivery, or between two lookups, cannot smuggle in a private address).
 */
export function guardedLookup(allow: AllowList, resolveAll: ResolveAll = systemResolveAll) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolveAll(hostname, { family: options.family ?? 0, hints: options.hints ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowListed = isHostAllowListed(hostname, allow);
      const verdicts = addresses.map((a) => ({
        a,
        verdict: allowListed ? ({ allowed: true } as const) : checkAddress(a.address, allow),
      }));
      const usable = verdicts.filter((v) => v.verdict.allowed).map((v) => v.a);
      if (usable.length === 0) {
        const first = verdicts.find((v) => !v.verdict.allowed)?.verdict;
        const reason = first && !first.allowed ? first.reason : 'no address';
        return callback(new SsrfRefusedError(`refused to connect to ${hostname}: ${reason}`), []);
      }
      if (options.all) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

export type EndpointUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The check at creation and update: the URL rules, then the host's current DNS answer (every address must
 * be allowed). A host that does not resolve yet is accepted; delivery checks again on every connection.
 */
export async function checkEndpointUrl(
  raw: string,
  allow: AllowList,
  resolveAll: ResolveAll = systemResolveAll,
  timeoutMs = 3_000,
): Promise<EndpointUrlCheck> {
  const verdict = checkTargetUrl(raw, allow);
  if (!verdict.allowed) return { ok: false, reason: verdict.reason };
  if (verdict.ipLiteral || isHostAllowListed(verdict.host, allow)) return { ok: true, url: verdict.url.href };
  const addresses = await new Promise<dns.LookupAddress[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), timeoutMs);
    resolveAll(verdict.host, {}, (err, found) => {
      clearTimeout(timer);
      resolve(err ? [] : found);
    });
  });
  for (const { address } of addresses) {
    const check = checkAddress(address, allow);
    if (!check.allowed) return { ok: false, reason: `host ${verdict.host} resolves to ${check.reason}` };
  }
  return { ok: true, url: verdict.url.href };
}
