import { useState } from 'react';
import { useAppState } from '../context';

/** This machine's "add me" addresses (host:port), each with a Copy button, for networks without discovery. */
export function OwnAddress() {
  const addresses = useAppState((s) => s.status?.addresses ?? []);
  const portTaken = useAppState((s) => s.status?.portTaken ?? null);
  const port = useAppState((s) => s.status?.controlPort ?? null);
  const [copied, setCopied] = useState<string | null>(null);
  if (addresses.length === 0) return null;
  const copy = (text: string) =>
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(text),
      () => setCopied(null),
    );
  return (
    <div className="own-address" data-testid="own-address">
      <span className="muted">Others add this machine by address:</span>
      {addresses.map((address) => (
        <span key={address} className="own-address-item">
          <code className="mono" data-testid="own-address-value">
            {address}
          </code>
          <button type="button" className="btn btn-small" onClick={() => copy(address)} aria-label={`Copy ${address}`}>
            {copied === address ? 'Copied' : 'Copy'}
          </button>
        </span>
      ))}
      {portTaken !== null ? (
        <span className="muted small" data-testid="own-address-port-note">
          Port {portTaken} was taken by another program, so this run listens on {port}: addresses others saved with {portTaken} do not reach it.
        </span>
      ) : null}
    </div>
  );
}
