import { useState } from 'react';
import { useActions } from '../context';

/**
 * Cancel discards what was fetched, so it asks first, in place; the safe choice takes the focus
 * the Cancel button had. The same on the Downloads page and in a game's detail panel.
 */
export function CancelButton({ gameId, title, className = 'btn btn-small btn-secondary', testId = 'download-cancel' }: { gameId: string; title: string; className?: string; testId?: string }) {
  const actions = useActions();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} data-testid={testId} data-action="cancel" aria-label={`Cancel ${title}`} onClick={() => setAsking(true)}>
        Cancel
      </button>
    );
  }
  return (
    <span className="dl-confirm" role="group" aria-label={`Cancel ${title}?`} data-testid="download-cancel-confirm">
      <span>Cancel and delete what was downloaded?</span>
      <button type="button" className="btn btn-small btn-danger" data-testid="download-cancel-yes" onClick={() => void actions.cancel(gameId).finally(() => setAsking(false))}>
        Yes, cancel
      </button>
      <button type="button" className="btn btn-small" data-testid="download-cancel-no" autoFocus onClick={() => setAsking(false)}>
        Keep it
      </button>
    </span>
  );
}
