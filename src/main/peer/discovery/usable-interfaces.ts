import type { NetworkInterfaceInfo } from 'node:os';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface UsableInterface {
  /** `name/address`: an address change on the same interface counts as a different one. */
  key: string;
  name: string;
  address: string;
}

/**
 * IPv4 interfaces mDNS can run on. os.networkInterfaces() already leaves out interfaces that
 * are not up and running (libuv filters them), so "listed" means "usable". One address per
 * interface: joining the same group twice on one interface fails.
 */
export function usableIPv4Interfaces(table: InterfaceTable, includeLoopback: boolean): UsableInterface[] {
  const usable: UsableInterface[] = [];
  for (const [name, addresses] of Object.entries(table)) {
    const ipv4 = (addresses ?? []).find((info) => info.family === 'IPv4' && (includeLoopback || !info.internal));
    if (ipv4) usable.push({ key: `${name}/${ipv4.address}`, name, address: ipv4.address });
  }
  return usable.sort((a, b) => a.key.localeCompare(b.key));
}
