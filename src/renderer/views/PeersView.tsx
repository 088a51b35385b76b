import { EmptyState } from '../components/EmptyState';
import { useAppState } from '../context';

export function PeersView() {
  const peers = useAppState((s) => s.peers);
  const peerCount = useAppState((s) => s.peerCount);
  const list = Object.values(peers).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section className="page" data-testid="peers-panel">
      <h1>
        Peers <span className="count">{peerCount}</span>
      </h1>
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
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
