import { useEffect, useState, type FormEvent } from 'react';
import type { Settings } from '../../shared/settings';
import { OwnAddress } from '../components/OwnAddress';
import { useActions, useAppState } from '../context';
import { ShareGameForm } from './ShareGameForm';

const MIB = 1024 * 1024;

/** Caps are edited in MiB/s (the unit every size and speed in the launcher uses) and stored in bytes/s; 0 means unlimited. */
function toMib(bytes: number): string {
  return bytes > 0 ? String(Math.round((bytes / MIB) * 10) / 10) : '0';
}

function fromMib(text: string): number {
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? Math.round(value * MIB) : 0;
}

function GameDirectory({ current }: { current: string | null }) {
  const actions = useActions();
  const [path, setPath] = useState(current ?? '');
  useEffect(() => setPath(current ?? ''), [current]);

  const pick = async () => {
    const picked = await actions.pickDirectory();
    if (picked) await actions.setGameDirectory(picked);
  };
  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (path.trim()) void actions.setGameDirectory(path.trim());
  };

  return (
    <section className="setting-group">
      <h2>Game folder</h2>
      <p className="muted">One sub-folder per game. Downloaded games in it are shared with the LAN.</p>
      {actions.hasNativePicker ? (
        <div className="row">
          <code className="path" data-testid="game-dir-current">
            {current ?? 'Not chosen yet'}
          </code>
          <button type="button" className="btn btn-primary" data-testid="game-dir-pick" onClick={() => void pick()}>
            Choose folder…
          </button>
        </div>
      ) : (
        <form className="row" onSubmit={apply}>
          <input
            className="input grow mono"
            value={path}
            placeholder="/home/you/games"
            onChange={(e) => setPath(e.target.value)}
            data-testid="game-dir-input"
            aria-label="Game folder path"
          />
          <button type="submit" className="btn btn-primary" data-testid="game-dir-apply" disabled={!path.trim() || path.trim() === current}>
            Use this folder
          </button>
        </form>
      )}
    </section>
  );
}

function Preferences({ settings, saved, setSaved }: { settings: Settings; saved: boolean; setSaved: (saved: boolean) => void }) {
  const actions = useActions();
  const [displayName, setDisplayName] = useState(settings.displayName);
  const [lowDisk, setLowDisk] = useState(settings.lowDiskDefault);
  const [down, setDown] = useState(toMib(settings.downloadLimitBytesPerSec));
  const [up, setUp] = useState(toMib(settings.uploadLimitBytesPerSec));
  const [peers, setPeers] = useState(settings.manualPeers.join('\n'));

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await actions.saveSettings({
      displayName: displayName.trim() || settings.displayName,
      lowDiskDefault: lowDisk,
      downloadLimitBytesPerSec: fromMib(down),
      uploadLimitBytesPerSec: fromMib(up),
      manualPeers: peers
        .split(/[\s,]+/)
        .map((p) => p.trim())
        .filter(Boolean),
    });
    setSaved(ok);
  };

  return (
    <form className="setting-group" onSubmit={(e) => void save(e)} onChange={() => setSaved(false)}>
      <h2>Preferences</h2>
      <label className="field">
        <span>Display name</span>
        <input className="input" value={displayName} maxLength={64} onChange={(e) => setDisplayName(e.target.value)} data-testid="setting-name" />
      </label>
      <label className="field field-check">
        <input type="checkbox" checked={lowDisk} onChange={(e) => setLowDisk(e.target.checked)} data-testid="setting-low-disk" />
        <span>
          Prefer the streamed (low-disk) install
          <small className="muted"> Needs about half the space, but the game is not shared from this machine.</small>
        </span>
      </label>
      <div className="field-pair">
        <label className="field">
          <span>Download cap (MiB/s, 0 = unlimited)</span>
          <input className="input" type="number" min={0} step={0.5} value={down} onChange={(e) => setDown(e.target.value)} data-testid="setting-download-cap" />
        </label>
        <label className="field">
          <span>Upload cap (MiB/s, 0 = unlimited)</span>
          <input className="input" type="number" min={0} step={0.5} value={up} onChange={(e) => setUp(e.target.value)} data-testid="setting-upload-cap" />
        </label>
      </div>
      <label className="field">
        <span>Manual peers (host:port, one per line — for networks that block discovery)</span>
        <textarea className="input mono" rows={3} value={peers} onChange={(e) => setPeers(e.target.value)} placeholder="192.168.1.20:7400" data-testid="setting-manual-peers" />
      </label>
      <OwnAddress />
      <div className="row">
        <button type="submit" className="btn btn-primary" data-testid="settings-save">
          Save
        </button>
        {saved ? (
          <span className="saved" data-testid="settings-saved">
            Saved
          </span>
        ) : null}
      </div>
    </form>
  );
}

export function SettingsView() {
  const settings = useAppState((s) => s.settings);
  // Kept here: a save changes the settings, which gives the form a fresh start (its key).
  const [saved, setSaved] = useState(false);
  return (
    <section className="page settings" data-testid="settings">
      <h1>Settings</h1>
      <GameDirectory current={settings?.gameDir ?? null} />
      {settings ? <Preferences key={JSON.stringify(settings)} settings={settings} saved={saved} setSaved={setSaved} /> : <p className="muted">Loading settings…</p>}
      <ShareGameForm />
    </section>
  );
}
