import { useEffect } from 'react';
import { useActions, useAppState } from '../context';
import { sentenceFor } from '../error-text';
import type { Toast } from '../store/state';
import type { OperationKind } from '../../shared/api';

const TOAST_MS = 9000;
const RESUMES = 'What was downloaded is kept: it picks up from there on its own when a peer that has the game is back.';

/** A Record, so a new kind fails to compile until it has its sentence. */
const DONE_SENTENCES: Record<OperationKind, string> = {
  download: 'downloaded.',
  install: 'installed.',
  update: 'updated.',
  'stream-install': 'installed.',
  uninstall: 'uninstalled.',
  'remove-downloaded': 'downloaded files removed.',
};

function ToastItem({ toast, title }: { toast: Toast; title: string | null }) {
  const { dismissToast } = useActions();
  useEffect(() => {
    const timer = setTimeout(() => dismissToast(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast.id, dismissToast]);
  if (toast.done) {
    return (
      <div className="toast toast-done" role="status" data-testid="toast-done">
        <div className="toast-body">
          <strong className="toast-title">{title ?? toast.gameId}: {DONE_SENTENCES[toast.done.kind]}</strong>
        </div>
        <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismissToast(toast.id)}>
          ×
        </button>
      </div>
    );
  }
  return (
    <div className="toast" role="alert" data-testid="toast" data-code={toast.error.code}>
      <div className="toast-body">
        <strong className="toast-title">{title ? `${title}: ` : ''}{sentenceFor(toast.error.code)}</strong>
        <span className="toast-detail">{toast.error.message}</span>
        {toast.resumes ? <span className="toast-detail" data-testid="toast-resumes">{RESUMES}</span> : null}
        <code className="toast-code">{toast.error.code}</code>
      </div>
      <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismissToast(toast.id)}>
        ×
      </button>
    </div>
  );
}

/** Readable errors (a sentence per code, the raw message beneath, the code small), and notices of what finished. */
export function Toasts() {
  const toasts = useAppState((s) => s.toasts);
  const games = useAppState((s) => s.games);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} title={toast.gameId ? (games[toast.gameId]?.title ?? null) : null} />
      ))}
    </div>
  );
}
