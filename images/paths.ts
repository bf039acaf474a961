/**
 * Image paths are relative, normalised and stay inside the image root: this is checked when
 * a manifest is parsed, so nothing later has to trust a path it was handed.
 * Returns why the path is unacceptable, or null when it is fine.
 */
export function imagePathProblem(p: string): string | null {
  if (p.length === 0) return 'is empty';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/')) return 'is absolute; expected a path relative to the image root';
  const parts = p.split('/');
  if (parts.includes('..')) return "contains '..'; expected a path inside the image";
  if (parts.some((x) => x === '' || x === '.')) return "is not normalised (empty or '.' component, or trailing '/')";
  return null;
}
