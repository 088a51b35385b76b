import { EmptyState } from '../components/EmptyState';
import { OwnAddress } from '../components/OwnAddress';
import { useEffect } from 'react';
import { useActions, useAppState } from '../context';
import { formatBytes } from '../format';

/** How often the open Peers page re-reads what was sent to and received from each peer. */
const TRAFFIC_REFRESH_MS = 2_000;

export function PeersView() {
  const { refreshPeers } = useActions();
  useEffect(() => {
    const timer = setInterval(() => void refreshPeers(), TRAFFIC_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refreshPeers]);
  const peers = useAppState((s) => s.peers);
  const peerCount = useAppState((s) => s.peerCount);
  const list = Object.values(peers).sort((a, b) => a.name.localeCompare(b.name));
  // Peers added by address that are not (yet) connected: connected ones are rows of the table.
  const manual = useAppState((s) => s.status?.manualPeers ?? []).filter((entry) => entry.state !== 'connected');
  return (
    <section className="page" data-testid="peers-panel">
      <h1>
        Peers <span className="count">{peerCount}</span>
      </h1>
      <OwnAddress />
      {manual.length > 0 ? (
        <ul className="manual-peers" data-testid="manual-peers">
          {manual.map((entry) => (
            <li key={entry.address} data-testid={`manual-peer-${entry.state}`} data-address={entry.address}>
              <span className={`dot ${entry.state === 'unreachable' ? 'dot-off' : 'dot-on'}`} /> <span className="mono">{entry.address}</span>{' '}
              {entry.state === 'unreachable' ? <span className="muted">unreachable: {entry.reason}</span> : <span className="muted">trying to reach it…</span>}
            </li>
          ))}
        </ul>
      ) : null}
      {list.length === 0 ? (
        <EmptyState icon="📡" title="No peers yet" testId="empty-peers">
          <p>Other Lanspread players on this network appear here automatically. If multicast is blocked, add them by address in Settings.</p>
        </EmptyState>
      ) : (
        <table className="peers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Address</th>
              <th>Found via</th>
              <th>Games</th>
              <th>Ping</th>
              <th title="Sent to this peer since the launcher started">Sent</th>
              <th title="Received from this peer since the launcher started">Received</th>
            </tr>
          </thead>
          <tbody>
            {list.map((peer) => (
              <tr key={peer.peerId} data-testid={`peer-row-${peer.peerId}`}>
                <td>
                  <span className="dot dot-on" /> {peer.name}
                  <div className="muted small mono">{peer.peerId.slice(0, 16)}…</div>
                </td>
                <td className="mono">
                  {peer.host}:{peer.port}
                </td>
                <td>{peer.source === 'mdns' ? 'LAN discovery' : 'Manual'}</td>
                <td>{peer.gameCount}</td>
                <td>{peer.rttMs === null ? '—' : `${Math.round(peer.rttMs)} ms`}</td>
                <td data-testid="peer-sent">{formatBytes(peer.uploadedBytes)}</td>
                <td data-testid="peer-received">{formatBytes(peer.downloadedBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
