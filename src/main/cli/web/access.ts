import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';

/**
 * Who may talk to the web host: whoever holds its random token, on loopback too (any local
 * process or user can connect to loopback, and the UI can set the game folder or start a
 * game). The URL the host prints carries it; a cookie keeps it. Independently, the Host header must name
 * this host by IP (or localhost), which defeats DNS rebinding: a rebound attacker page sends its
 * own domain name as Host.
 */

export const TOKEN_COOKIE = 'lanspread_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The hostname part of a Host header ("[::1]:80" -> "::1", "a.b:1" -> "a.b"). */
export function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1] ?? null;
  const colon = hostHeader.lastIndexOf(':');
  return (colon >= 0 ? hostHeader.slice(0, colon) : hostHeader).toLowerCase();
}

/** An IP literal or localhost is fine; a DNS name only when explicitly allowed. */
export function hostHeaderAllowed(hostHeader: string | undefined, allowedNames: readonly string[]): boolean {
  const name = hostnameOf(hostHeader);
  if (!name) return false;
  return name === 'localhost' || net.isIP(name) !== 0 || allowedNames.includes(name);
}

/** Browsers always send Origin on WebSocket upgrades; it must be this very host (same origin). */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser: cannot be a cross-site page
  try {
    return new URL(origin).host === hostHeader;
  } catch {
    return false;
  }
}

export function cookieValue(cookieHeader: string | undefined, name: string): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}
