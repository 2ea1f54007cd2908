/** Validation messages of the API shown next to the field they name (the error box lists the rest too). */
import { issuesOf } from './ui.tsx';

/**
 * The messages of an API error whose issue path is `path` or lies under it (`stages[1]`, `numerator.event`);
 * with `exact`, only those naming `path` itself (a list whose items show their own messages).
 */
export function issuesAt(error: unknown, path: string, exact = false): string[] {
  return issuesOf(error)
    .filter(
      (i) => i.path === path || (!exact && (i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`))),
    )
    .map((i) => i.message);
}

/** The field's messages under it, or nothing. */
export function FieldIssues({ error, path, exact }: { error: unknown; path: string; exact?: boolean }) {
  const messages = issuesAt(error, path, exact);
  if (messages.length === 0) return null;
  return (
    <p className="field-error" role="alert" data-testid={`issue-${path}`}>
      {messages.join('; ')}
    </p>
  );
}
