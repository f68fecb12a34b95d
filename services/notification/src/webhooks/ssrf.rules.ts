/**
 * Which webhook targets may be called. Pure: no DNS here; the guard applies these rules to the URL at
 * creation and to every address actually connected to at delivery.
 */

export interface AllowList {
  /** Host names (lower case, or IP literals) that may resolve to, or be, non-public addresses. */
  readonly hosts: readonly string[];
  /** CIDR ranges (`127.0.0.0/8`, `::1/128`) that may be connected to although not public. */
  readonly cidrs: readonly string[];
  /** Ports a target may use, as inclusive ranges; the web's own two when absent. */
  readonly ports?: readonly PortRange[];
}

export type PortRange = readonly [low: number, high: number];

/**
 * A webhook receiver is a web server: on any other port a URL mostly reaches something that is not one
 * (mail, databases, admin consoles) and could be probed by the timing of our attempts.
 */
export const webPorts: readonly PortRange[] = Object.freeze([
  [80, 80],
  [443, 443],
] as const);

export const emptyAllowList: AllowList = Object.freeze({ hosts: [], cidrs: [], ports: webPorts });

/** `80,443`, `8000-8999`, or `*` for any port; throws with a readable message. */
export function parsePortRanges(text: string): PortRange[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 1 && parts[0] === '*') return [[1, 65_535]];
  return parts.map((part) => {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const low = Number(match?.[1]);
    const high = match?.[2] === undefined ? low : Number(match[2]);
    if (!match || low < 1 || high > 65_535 || low > high) {
      throw new Error(`"${part}" is not a port or range like 443 or 8000-8999 (or * for any)`);
    }
    return [low, high] as const;
  });
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

interface Range {
  bytes: number[];
  prefix: number;
  what: string;
}

const v4 = (cidr: string, what: string): Range => {
  const [address, prefix] = cidr.split('/');
  return { bytes: mappedV4(parseIpv4(address!)!), prefix: 96 + Number(prefix), what };
};
const v6 = (cidr: string, what: string): Range => {
  const [address, prefix] = cidr.split('/');
  return { bytes: parseIpv6(address!)!, prefix: Number(prefix), what };
};

// IPv4 ranges are kept as IPv4-mapped IPv6 so one comparison covers `a.b.c.d` and `::ffff:a.b.c.d` alike.
// The most specific ranges come first so the reason names them (metadata before link-local).
const blockedRanges: readonly Range[] = [
  v4('169.254.169.254/32', 'cloud metadata'),
  v4('100.100.100.200/32', 'cloud metadata'),
  v6('fd00:ec2::254/128', 'cloud metadata'),
  v4('0.0.0.0/8', '"this network"'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared (carrier-grade NAT)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'IETF protocol assignment'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', '6to4 relay'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::/96', 'IPv4-compatible (deprecated)'),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard-only'),
  v6('2001::/23', 'IETF protocol assignment'),
  v6('2001:db8::/32', 'documentation'),
  v6('fc00::/7', 'unique local (private)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];

const blockedHostSuffixes = ['localhost', 'local', 'internal', 'localdomain', 'home.arpa'];
const blockedHostNames = new Set(['metadata', 'metadata.goog', 'instance-data']);

/** Whether an address (IPv4 or IPv6 text) may be connected to. */
export function checkAddress(address: string, allow: AllowList = emptyAllowList): Verdict {
  const bytes = parseIp(address);
  if (!bytes) return { allowed: false, reason: `${address} is not an IP address` };
  if (allow.cidrs.some((cidr) => inRange(bytes, parseCidr(cidr)))) return { allowed: true };
  const blocked = blockedRanges.find((range) => inRange(bytes, range));
  if (blocked) return { allowed: false, reason: `${address} is not public (${blocked.what})` };
  // Addresses that carry an IPv4 address inside (NAT64, IPv4-translated, 6to4) are judged by the address
  // they reach. (IPv4-mapped ones are matched as IPv4 above; IPv4-compatible ones are refused as a range.)
  const embedded = embeddedIpv4(bytes);
  if (embedded) {
    const inner = checkAddress(embedded, allow);
    if (!inner.allowed) return { allowed: false, reason: `${address} embeds ${inner.reason}` };
  }
  return { allowed: true };
}

export type UrlVerdict =
  | { allowed: true; url: URL; host: string; ipLiteral: string | null }
  | { allowed: false; reason: string };

/**
 * The checks that need no DNS: scheme, host names that only ever mean internal machines, and IP literals in
 * any spelling (the WHATWG URL parser already turns `2130706433`, `0x7f.1` and `0177.0.0.1` into
 * `127.0.0.1`; `parseIp` reads the loose forms too in case a host arrives without that parser).
 */
export function checkTargetUrl(raw: string, allow: AllowList = emptyAllowList): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { allowed: false, reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      allowed: false,
      reason: `scheme ${url.protocol.replace(':', '')} is not allowed; use http or https`,
    };
  }
  if (url.username || url.password) return { allowed: false, reason: 'must not contain credentials' };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!(allow.ports ?? webPorts).some(([low, high]) => port >= low && port <= high)) {
    return { allowed: false, reason: `port ${port} is not allowed (WEBHOOK_ALLOWED_PORTS)` };
  }
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === '') return { allowed: false, reason: 'has no host' };
  const ipLiteral = parseIp(host) ? host : null;
  if (allow.hosts.includes(host)) return { allowed: true, url, host, ipLiteral };
  if (ipLiteral) {
    const verdict = checkAddress(ipLiteral, allow);
    return verdict.allowed ? { allowed: true, url, host, ipLiteral } : verdict;
  }
  if (!host.includes('.'))
    return { allowed: false, reason: `host ${host} is a single-label (internal) name` };
  if (blockedHostNames.has(host) || blockedHostSuffixes.some((s) => host === s || host.endsWith(`.${s}`))) {
    return { allowed: false, reason: `host ${host} names an internal machine` };
  }
  return { allowed: true, url, host, ipLiteral: null };
}

export function isHostAllowListed(host: string, allow: AllowList): boolean {
  return allow.hosts.includes(
    host
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, ''),
  );
}

/** Validates a CIDR for configuration; throws with a readable message. */
export function parseCidr(cidr: string): Range {
  const [address, prefixText] = cidr.trim().split('/');
  const bytes = address ? parseIp(address) : null;
  if (!bytes) throw new Error(`"${cidr}" is not a CIDR like 127.0.0.0/8 or ::1/128`);
  const isV4 = parseIpv4(address!) !== null;
  const max = isV4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`"${cidr}" has a bad prefix`);
  return { bytes, prefix: isV4 ? 96 + prefix : prefix, what: 'allowed' };
}

function inRange(bytes: number[], range: Range): boolean {
  let bits = range.prefix;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** 16 bytes of an IPv6 address or of the IPv4-mapped form of an IPv4 address; null if neither. */
export function parseIp(text: string): number[] | null {
  const ipv4 = parseIpv4(text);
  if (ipv4) return mappedV4(ipv4);
  const ipv6 = parseIpv6(text);
  return ipv6;
}

function mappedV4(ipv4: number[]): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4];
}

/**
 * IPv4 in every spelling `inet_aton` accepts: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x),
 * the last part filling the remaining bytes (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`).
 */
export function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^(0|[1-9]\d*)$/.test(part)) value = Number.parseInt(part, 10);
    else return null;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return null;
  const restBytes = 4 - values.length;
  if (last >= 256 ** restBytes) return null;
  const tail: number[] = [];
  for (let i = restBytes - 1; i >= 0; i--) tail.push(Math.floor(last / 256 ** i) % 256);
  return [...values, ...tail];
}

/** IPv6 text (with `::`, an IPv4 tail, and an optional zone) to 16 bytes; null if not IPv6. */
export function parseIpv6(input: string): number[] | null {
  const text = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (piece.includes('.')) {
        if (i !== pieces.length - 1) return null;
        const tail = /^\d{1,3}(\.\d{1,3}){3}$/.test(piece)
          ? parseIpv4(piece.replace(/\b0+(\d)/g, '$1'))
          : null;
        if (!tail) return null;
        out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function embeddedIpv4(bytes: number[]): string | null {
  const isNat64 = bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b;
  if (isNat64 && bytes.slice(4, 12).every((b) => b === 0)) return bytes.slice(12).join('.');
  // IPv4-translated (RFC 2765, SIIT): ::ffff:0:a.b.c.d.
  const isTranslated =
    bytes.slice(0, 8).every((b) => b === 0) &&
    bytes[8] === 0xff &&
    bytes[9] === 0xff &&
    !bytes[10] &&
    !bytes[11];
  if (isTranslated) return bytes.slice(12).join('.');
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6).join('.');
  return null;
}
