/** The shown-once display of a new secret (client key or admin token). */
import { useState } from 'react';

/** A just-created secret (client key or admin token), shown this once with a copy button. */
export function CreatedSecret({
  created,
  onDone,
  what = 'Key',
}: {
  created: { key: { name: string }; secret: string };
  onDone(): void;
  what?: string;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="card secret" role="status" aria-live="polite">
      <h2>
        {what} “{created.key.name}” created
      </h2>
      <p>
        <strong>Copy it now: this is the only time it is shown.</strong> Dimmer stores only a hash of it.
      </p>
      <div className="secret-row">
        <code className="secret-value" data-testid="new-key-secret">
          {created.secret}
        </code>
        <button type="button" className="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <button type="button" className="button button-primary" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}
