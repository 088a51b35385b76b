import type { ReactNode } from 'react';

export function EmptyState({ icon, title, children, testId }: { icon: string; title: string; children?: ReactNode; testId: string }) {
  return (
    <div className="empty" data-testid={testId}>
      <div className="empty-icon" aria-hidden="true">
        {icon}
      </div>
      <h2>{title}</h2>
      {children ? <div className="empty-text">{children}</div> : null}
    </div>
  );
}
