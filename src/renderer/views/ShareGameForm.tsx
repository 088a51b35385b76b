import { useState, type FormEvent } from 'react';
import type { LaunchConfig, Platform } from '../../shared/catalog';
import { DESCRIPTION_LIMITS, type GameDescription } from '../../shared/game-description';
import { useActions } from '../context';

interface LaunchFields {
  executable: string;
  args: string;
}

const EMPTY = { id: '', title: '', version: '', description: '', genres: '', maxPlayers: '8', linux: { executable: '', args: '' }, win32: { executable: '', args: '' } };

/** Arguments as typed, split on spaces (a game that needs spaces inside one argument is described with the CLI). */
function launchOf(fields: LaunchFields): LaunchConfig | null {
  const executable = fields.executable.trim();
  return executable ? { executable, args: fields.args.split(/\s+/).filter(Boolean) } : null;
}

/**
 * Shares a game folder that is not in the bundled catalog: the folder `<game folder>/<id>/`
 * holds its archives, and this description goes to every peer with it. The peer checks every
 * field (ids, lengths, control characters, launch paths inside local/) and says which one is wrong.
 */
export function ShareGameForm() {
  const actions = useActions();
  const [form, setForm] = useState(EMPTY);
  const [shared, setShared] = useState<string | null>(null);
  const set = (patch: Partial<typeof EMPTY>) => {
    setShared(null);
    setForm((current) => ({ ...current, ...patch }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const launch: Partial<Record<Platform, LaunchConfig>> = {};
    for (const platform of ['linux', 'win32'] as const) {
      const config = launchOf(form[platform]);
      if (config) launch[platform] = config;
    }
    const description: GameDescription = {
      id: form.id.trim(),
      title: form.title.trim(),
      description: form.description.trim(),
      genres: form.genres.split(',').map((genre) => genre.trim()).filter(Boolean),
      maxPlayers: Number(form.maxPlayers),
      launch,
    };
    const result = await actions.shareGame({ description, ...(form.version.trim() ? { version: form.version.trim() } : {}) });
    if (result) {
      setShared(result.title);
      setForm(EMPTY);
    }
  };

  return (
    <form className="setting-group" onSubmit={(e) => void submit(e)} data-testid="share-game-form">
      <h2>Share your own game</h2>
      <p className="muted">
        Put the game&apos;s archives in a folder named by its id inside your game folder, then describe it here: every peer on the LAN lists it with this
        description and can install it. Games of the bundled catalog keep their own description.
      </p>
      <div className="field-pair">
        <label className="field">
          <span>Id (folder name: lowercase letters, digits, -)</span>
          <input className="input mono" value={form.id} maxLength={64} onChange={(e) => set({ id: e.target.value })} data-testid="share-id" />
        </label>
        <label className="field">
          <span>Title</span>
          <input className="input" value={form.title} maxLength={DESCRIPTION_LIMITS.title} onChange={(e) => set({ title: e.target.value })} data-testid="share-title" />
        </label>
      </div>
      <div className="field-pair">
        <label className="field">
          <span>Version (written to version.ini; empty: the folder&apos;s own version.ini)</span>
          <input className="input" value={form.version} maxLength={DESCRIPTION_LIMITS.version} onChange={(e) => set({ version: e.target.value })} data-testid="share-version" />
        </label>
        <label className="field">
          <span>Max players</span>
          <input className="input" type="number" min={1} max={DESCRIPTION_LIMITS.maxPlayers} value={form.maxPlayers} onChange={(e) => set({ maxPlayers: e.target.value })} data-testid="share-max-players" />
        </label>
      </div>
      <label className="field">
        <span>Description (optional)</span>
        <textarea className="input" rows={2} value={form.description} maxLength={DESCRIPTION_LIMITS.description} onChange={(e) => set({ description: e.target.value })} data-testid="share-description" />
      </label>
      <label className="field">
        <span>Genres (comma-separated, optional)</span>
        <input className="input" value={form.genres} onChange={(e) => set({ genres: e.target.value })} data-testid="share-genres" />
      </label>
      {(['linux', 'win32'] as const).map((platform) => (
        <div className="field-pair" key={platform}>
          <label className="field">
            <span>{platform === 'linux' ? 'Linux' : 'Windows'}: program to start, inside local/ (e.g. bin/game)</span>
            <input className="input mono" value={form[platform].executable} onChange={(e) => set({ [platform]: { ...form[platform], executable: e.target.value } })} data-testid={`share-launch-${platform}`} />
          </label>
          <label className="field">
            <span>{platform === 'linux' ? 'Linux' : 'Windows'}: arguments (optional)</span>
            <input className="input mono" value={form[platform].args} onChange={(e) => set({ [platform]: { ...form[platform], args: e.target.value } })} data-testid={`share-args-${platform}`} />
          </label>
        </div>
      ))}
      <div className="row">
        <button type="submit" className="btn btn-primary" data-testid="share-submit" disabled={!form.id.trim() || !form.title.trim()}>
          Share game
        </button>
        {shared ? (
          <span className="saved" data-testid="share-done">
            Sharing {shared}
          </span>
        ) : null}
      </div>
    </form>
  );
}
